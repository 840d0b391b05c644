type Stoppable = { stop(): Promise<void> };

export default async function globalTeardown(): Promise<void> {
  const started = globalThis as { __tasklanePgBouncer?: Stoppable; __tasklanePg?: Stoppable };
  await started.__tasklanePgBouncer?.stop();
  await started.__tasklanePg?.stop();
}
