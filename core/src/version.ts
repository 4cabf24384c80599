// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require('../package.json') as { version: string; name: string };

/** The version of @pureboot/core that is running; plugins declare the range they support. */
export const CORE_VERSION: string = pkg.version;
export const CORE_PACKAGE: string = pkg.name;
