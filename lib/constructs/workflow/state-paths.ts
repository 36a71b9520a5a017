import type * as cdk from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';

/**
 * Typed JSONPaths into a state machine's state. The REGISTER and DEPLOY machines stay on JSONPath (so that
 * they run in aws-local-stepfunctions and moto), and a path is a string the compiler cannot check; these
 * helpers derive every path of one object in the state from its TypeScript type, so that renaming a field
 * of, say, `DeploySettings` is a compile error in every step that reads it.
 *
 *   const settings = statePaths<DeploySettings>('$.settings');
 *   settings.path('endpointName')    // '$.settings.endpointName'
 *   settings.string('endpointName')  // JsonPath.stringAt('$.settings.endpointName')
 *   settings.at('environment')       // statePaths of the nested object
 */

/** String keys of `T` (optional ones included). */
type Field<T> = Extract<keyof T, string>;

/** The paths of one object of type `T` in the state, rooted at `root`. */
export interface StatePaths<T> {
  /** The object's own path, e.g. `$.settings`. */
  readonly root: string;
  /** The path of one field. */
  path(field: Field<T>): string;
  /** `JsonPath.stringAt` of one field. */
  string(field: Field<T>): string;
  /** `JsonPath.numberAt` of one field. */
  number(field: Field<T>): number;
  /** `JsonPath.listAt` of one field. */
  list(field: Field<T>): string[];
  /** `JsonPath.objectAt` of one field. */
  object(field: Field<T>): cdk.IResolvable;
  /** The paths of a nested object. */
  at<K extends Field<T>>(field: K): StatePaths<NonNullable<T[K]>>;
}

/** The paths of an object of type `T` at `root` (`$.settings`, `$.job.OutputDataConfig`). */
export function statePaths<T>(root: string): StatePaths<T> {
  const path = (field: string) => `${root}.${field}`;
  return {
    root,
    path,
    string: (field) => sfn.JsonPath.stringAt(path(field)),
    number: (field) => sfn.JsonPath.numberAt(path(field)),
    list: (field) => sfn.JsonPath.listAt(path(field)),
    object: (field) => sfn.JsonPath.objectAt(path(field)),
    at: (field) => statePaths(path(field)),
  };
}

/** Paths into a task's own result, for its `resultSelector` (`T` is the AWS response type). */
export function taskResult<T>(): StatePaths<T> {
  return statePaths<T>('$');
}

/**
 * Pass-state `parameters` that write an object of type `T`, each value a literal or a JsonPath token: a
 * field missing from (or added to) `T` is a compile error here as well as in the steps that read it.
 */
export type StateFields<T> = { readonly [K in Field<T>]-?: unknown };
