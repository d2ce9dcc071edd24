// Types of launch.js (plain JavaScript: it runs before anything is compiled).
import type * as esbuild from 'esbuild';

/** The checkout, the entry (relative to it), the cache directory. */
export interface Where {
  readonly root?: string;
  readonly entry?: string;
  readonly dir?: string;
}
export type Main = (argv: readonly string[]) => Promise<number>;

export declare const REPO_ROOT: string;
export declare function cacheDir(root?: string): string;
export declare function fingerprint(root: string, inputs: readonly { file: string; hash: string }[], dirs: readonly string[], esbuildVersion: string): string;
export declare function validBundle(where?: Where): string | undefined;
export declare function lockBuild(dir: string): (() => void) | undefined;
export declare function buildBundle(build: typeof esbuild, where?: Where): Promise<string>;
export declare function bundledCli(where?: Where): Promise<string | undefined>;
export declare function loadBundle(bundle: string, root?: string): { main: Main };
export declare function launch(argv: readonly string[]): Promise<number>;
