export { buildApp, type BuildOptions } from './app.ts'
export { loadSettings, SETTINGS, type Settings } from './settings.ts'
export { ERROR_CODES, GovernorError, isGovernorError, type ErrorCode } from './errors.ts'
export { Store } from './store/store.ts'
