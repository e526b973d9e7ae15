import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The built files are embedded into the Tauri binary (tauri.conf.json `frontendDist`), so
// everything is bundled locally and paths are relative.
export default defineConfig({
  plugins: [svelte()],
  base: "./",
  clearScreen: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // WebKitGTK 2.40+ (Debian 12) and WebView2 both handle ES2021.
    target: "es2021",
    sourcemap: false,
    chunkSizeWarningLimit: 1000,
  },
  server: { strictPort: true, port: 5173 },
});
