export * from './opcodes';
export * from './packet';
export * from './negotiate';
export * from './netascii';
