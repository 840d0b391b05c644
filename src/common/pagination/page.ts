/** One page of a list; the envelope interceptor puts `items` in `data` and the rest in `meta.page`. */
export class Page<T> {
  constructor(
    readonly items: T[],
    readonly limit: number,
    readonly nextCursor: string | null,
  ) {}
}
