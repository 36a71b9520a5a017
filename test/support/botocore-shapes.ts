// the validator lives in lib/local (the local training-job runner validates every request it runs).
export * from '../../lib/local/botocore-shapes';
