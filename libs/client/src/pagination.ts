/** One page of a list: `{ data, next_cursor }` (`next_cursor` null on the last page). */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/**
 * A paged list request. `await` it for one page (`{ data, next_cursor }`); iterate it with `for await`
 * for every item of every page, fetched page by page as the loop goes (stop early with `break`):
 *
 *     const first = await client.orgs.listMembers(orgId, { limit: 20 });
 *     for await (const member of client.orgs.listMembers(orgId)) console.log(member.email);
 *
 * `pages()` walks whole pages. Awaiting sends one request (once, however often it is awaited);
 * each iteration starts again from the first page (or the `cursor` given).
 */
export class PageRequest<T> implements PromiseLike<Page<T>>, AsyncIterable<T> {
  private first?: Promise<Page<T>>;

  constructor(
    private readonly fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
    private readonly cursor?: string,
  ) {}

  then<R1 = Page<T>, R2 = never>(
    onfulfilled?: ((page: Page<T>) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.first ??= this.fetchPage(this.cursor);
    return this.first.then(onfulfilled, onrejected);
  }

  /** Every page, in order. */
  async *pages(): AsyncGenerator<Page<T>, void, undefined> {
    let cursor = this.cursor;
    do {
      const page = await this.fetchPage(cursor);
      yield page;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages()) yield* page.data;
  }

  /** Every item of every page in one array (mind the size of long lists). */
  async toArray(): Promise<T[]> {
    const all: T[] = [];
    for await (const item of this) all.push(item);
    return all;
  }
}
