export { decodeJson, encodeJson } from './sqlite/codec.js';
export { latestVersion, type Migration, migrate, migrations, schemaVersion } from './sqlite/migrations.js';
export { openSqliteStore } from './sqlite/open.js';
export {
  DB_FILE_NAME,
  DEFAULT_DURABILITY,
  type SqliteStoreOptions,
  type SqliteStoreStats,
} from './sqlite/options.js';
export { SqliteStore } from './sqlite/store.js';
