/** The agent's version, from package.json: `--version`, the start-up log, `telemetry.sdk.version`. */
import packageJson from '../package.json' with { type: 'json' };

export const OBI_TS_VERSION: string = (packageJson as { version: string }).version;
