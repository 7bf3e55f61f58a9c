/// <reference types="vitest/config" />
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` serves the app on :5173 and sends API, gRPC-Web, tus and HLS calls to the
// running platform (`make up`, Envoy on :8080).
const edge = process.env.VIDMESH_EDGE ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react(), tailwindcss()],
  server: {
    proxy: {
      "/v1": edge,
      "/hls": edge,
      "/vidmesh.v1.": edge,
    },
  },
  build: { sourcemap: true, chunkSizeWarningLimit: 1024 },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
