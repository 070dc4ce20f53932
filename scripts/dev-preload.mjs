/**
 * Preloaded (`node --import`) into every process of `npm run dev`: installs the peer-address
 * layer (lib/http/peer-address.ts) before Next's dev server creates its HTTP server. Without it
 * `next dev` listens first and runs instrumentation.ts later, and requests arriving in between
 * would reach Next unstamped. tsx (a devDependency, like everything `npm run dev` needs) loads
 * the TypeScript module without registering a loader for the rest of the process.
 */
import { tsImport } from "tsx/esm/api";

const { installPeerAddressLayer } = await tsImport("../lib/http/peer-address.ts", import.meta.url);
installPeerAddressLayer();
