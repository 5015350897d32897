/*
 * Build configuration for the Portico web UI.
 *
 * Two entries share one source tree: portal/index.html and console/index.html
 * build to dist/portal/index.html and dist/console/index.html; every script
 * and stylesheet goes to dist/assets/ under a content-hashed name.  The server
 * sends a strict Content-Security-Policy (scripts and styles from 'self'
 * only), so nothing may be inlined: no data: URIs and no module-preload
 * polyfill (which Vite would otherwise emit as an inline script).
 *
 * `npm run dev` proxies /v1 and /auth to a Portico server (PORTICO_URL,
 * default http://127.0.0.1:8080), and both dev and preview servers fall back
 * to an entry's index.html for deep links, as the real server does.
 */
import { defineConfig, type Connect, type Plugin } from 'vite';
import { resolve } from 'node:path';

const backend = process.env.PORTICO_URL ?? 'http://127.0.0.1:8080';

/* /portal/apis/42 → /portal/index.html (paths with a file extension are left alone). */
function entryFallback(): Plugin {
  const rewrite: Connect.NextHandleFunction = (req, _res, next) => {
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    const m = /^\/(portal|console)(\/.*)?$/.exec(path);
    const last = path.split('/').pop() ?? '';
    if (m && !last.includes('.')) {
      req.url = `/${m[1]}/index.html`;
    } else if (path === '/') {
      req.url = '/portal/index.html';
    }
    next();
  };
  return {
    name: 'portico-entry-fallback',
    configureServer(server) {
      server.middlewares.use(rewrite);
    },
    configurePreviewServer(server) {
      server.middlewares.use(rewrite);
    },
  };
}

export default defineConfig({
  base: '/',
  appType: 'mpa',
  plugins: [entryFallback()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    assetsInlineLimit: 0,
    cssCodeSplit: true,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
    rolldownOptions: {
      input: {
        portal: resolve(import.meta.dirname, 'portal/index.html'),
        console: resolve(import.meta.dirname, 'console/index.html'),
      },
      output: {
        // What both entries use (Preact, the API client, shared components,
        // the stylesheet) goes into one chunk named "shared", cached once.
        codeSplitting: {
          groups: [{ name: 'shared', test: /node_modules|[\\/]src[\\/]shared[\\/]/ }],
        },
      },
    },
  },
  server: {
    proxy: {
      '/v1': { target: backend, changeOrigin: false },
      '/auth': { target: backend, changeOrigin: false },
    },
  },
  preview: {
    proxy: {
      '/v1': { target: backend, changeOrigin: false },
      '/auth': { target: backend, changeOrigin: false },
    },
  },
});
