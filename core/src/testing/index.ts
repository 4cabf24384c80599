/** Test support for PureBoot packages: real-client prerequisites, processes, namespaces. */
export * from './require';
export * from './spawn';
export * from './netns';
export { ManualClock } from '../clock';
export * from './builder-contract';
export * from './store-conformance';
export * from './stats';
