import type { MetadataRoute } from "next";

/** Installable as an app: name, colours and icons (public/icon-*.png, app/icon.svg). */
export default function manifest(): MetadataRoute.Manifest {
  return {
    name: "LitStatus",
    short_name: "LitStatus",
    description: "Captions that hit. Type a few words, get a caption with hashtags.",
    start_url: "/",
    display: "standalone",
    background_color: "#fbfaf8",
    theme_color: "#c2410c",
    icons: [
      { src: "/icon-192.png", sizes: "192x192", type: "image/png" },
      { src: "/icon-512.png", sizes: "512x512", type: "image/png" },
      { src: "/icon-maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
    ],
  };
}
