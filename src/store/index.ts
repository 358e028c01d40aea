export { decodeJson, encodeJson } from './codec.js';
export { latestVersion, type Migration, migrate, migrations, schemaVersion } from './migrations.js';
export {
  DB_FILE_NAME,
  DEFAULT_DURABILITY,
  openSqliteStore,
  SqliteStore,
  type SqliteStoreOptions,
  type SqliteStoreStats,
} from './sqlite-store.js';
