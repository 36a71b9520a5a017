export * from './definition';
export * from './expressions';
export * from './resolve';
export * from './steps';
export * from './training-definition';
