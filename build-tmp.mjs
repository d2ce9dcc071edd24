import * as esbuild from 'esbuild';
const t = performance.now();
const r = await esbuild.build({
  entryPoints: ['src/cli/main.ts'], bundle: true, platform: 'node', format: 'cjs', target: 'node20',
  outfile: process.env.OUT, metafile: true, logLevel: 'warning', mainFields: ['module', 'main'], minify: !!process.env.MIN,
  external: (process.env.EXT ?? 'serialport,@serialport/*,esbuild,electron,playwright-core,ws').split(','),
});
console.log('build ms', (performance.now() - t).toFixed(0), 'inputs', Object.keys(r.metafile.inputs).length);
