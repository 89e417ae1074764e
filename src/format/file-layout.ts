export type ExportFormat = 'json' | 'ndjson';

/**
 * Lays rows out in a file: `json` is one array, `[`, then one row object per line separated by `,`, then `]`;
 * `ndjson` is one row object per line. (A `json`-typed value keeps its own text, line breaks included.)
 */
export class RowFramer {
  private rows = 0;
  constructor(readonly format: ExportFormat) {}

  get rowCount(): number {
    return this.rows;
  }

  start(): Buffer {
    return Buffer.from(this.format === 'json' ? '[\n' : '');
  }

  /** The separator to write before the next row. */
  beforeRow(): Buffer {
    const sep = this.format === 'json' && this.rows > 0 ? COMMA_NL : EMPTY;
    this.rows++;
    return sep;
  }

  afterRow(): Buffer {
    return this.format === 'ndjson' ? NL : EMPTY;
  }

  end(): Buffer {
    if (this.format === 'ndjson') return EMPTY;
    return Buffer.from(this.rows > 0 ? '\n]\n' : ']\n');
  }
}

const EMPTY = Buffer.alloc(0);
const NL = Buffer.from('\n');
const COMMA_NL = Buffer.from(',\n');
