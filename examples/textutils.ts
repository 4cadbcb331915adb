// Small text helpers in TypeScript: the second language of the Quick start example.

export function truncate(text: string, width: number, ellipsis = "..."): string {
  if (width < ellipsis.length) {
    throw new RangeError("width is shorter than the ellipsis");
  }
  return text.length <= width ? text : text.slice(0, width - ellipsis.length) + ellipsis;
}

export class WordCounter {
  private counts = new Map<string, number>();

  add(text: string): void {
    for (const word of text.toLowerCase().split(/\s+/).filter(Boolean)) {
      this.counts.set(word, (this.counts.get(word) ?? 0) + 1);
    }
  }

  top(n: number): Array<[string, number]> {
    return [...this.counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  }
}
