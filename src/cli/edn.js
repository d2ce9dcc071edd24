#!/usr/bin/env node
// The `edn` command. The CLI is TypeScript run through tsx's loader, so `npx edn ...` works right
// after `npm ci` with no build step (see README, "Dependencies").
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
