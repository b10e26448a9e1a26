// Node entry hooks: TypeScript through tsx, and `import code from './x.wgsl?raw'`
// the way Vite does it, so shaders load by one mechanism in Node, Vite and the embed.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./raw-loader.mjs', import.meta.url);
