export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __tasklanePg?: { stop(): Promise<void> } }).__tasklanePg?.stop();
}
