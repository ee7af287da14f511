/** The web UI's bundle: the page and its assets, built from collector/ui/ (served by api/ui.ts). */
export { buildUiBundle, type UiAsset, type UiBundle } from './ui-bundle.ts'
