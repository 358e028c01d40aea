/**
 * The part of better-sqlite3 (12.x) that src/store uses. The package ships no types and
 * @types/better-sqlite3 is not a dependency; if it is added later, delete this file.
 */
declare module 'better-sqlite3' {
  namespace Database {
    interface RunResult {
      changes: number;
      lastInsertRowid: number | bigint;
    }

    interface Statement {
      run(...params: unknown[]): RunResult;
      get(...params: unknown[]): unknown;
      all(...params: unknown[]): unknown[];
    }

    interface Options {
      readonly?: boolean;
      fileMustExist?: boolean;
      timeout?: number;
    }

    interface Database {
      readonly name: string;
      readonly open: boolean;
      readonly inTransaction: boolean;
      prepare(source: string): Statement;
      exec(source: string): this;
      pragma(source: string, options?: { simple?: boolean }): unknown;
      transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
      close(): this;
    }

    interface DatabaseConstructor {
      new (filename: string, options?: Options): Database;
      (filename: string, options?: Options): Database;
    }
  }

  const Database: Database.DatabaseConstructor;
  export = Database;
}
