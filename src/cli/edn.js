#!/usr/bin/env node
// The `edn` command. The CLI is TypeScript: the first run bundles it with esbuild into a cache
// that later runs load directly, falling back to tsx's loader (see launch.js), so `npx edn ...`
// works right after `npm ci` with no build step (see README, "Dependencies").
import { launch } from './launch.js';

process.exitCode = await launch(process.argv.slice(2));
