// the artifact layout lives in lib/config (the CLI and the stacks import it too); re-exported for the builders.
export { ARTIFACT_KEYS } from '../config/artifacts-layout';
export * from './definition';
export * from './expressions';
export * from './parameters';
export * from './resolve';
export * from './steps';
export * from './training-definition';
