export * from './definition';
export * from './expressions';
export * from './parameters';
export * from './resolve';
export * from './steps';
export * from './training-definition';
