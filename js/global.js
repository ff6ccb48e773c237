// The entry of the classic-script build, roomkit.global.js (make builds
// it with esbuild as an IIFE): <script src=".../js/roomkit.global.js">
// defines the global RoomKit, with RoomKit's members and everything else
// the module exports (ErrorCode, VERSION, ...), for a page whose own
// scripts are not modules (a call kit page moving over: `var
// ZegoUIKitPrebuilt = RoomKit;`). Loaded from a roomkit server, its
// default server is that server and its wasm comes from next to it
// (roomkit.js reads the script's address as it runs).

import * as roomkit from './roomkit.js';

const global = {};
Object.defineProperties(global, Object.getOwnPropertyDescriptors(roomkit.RoomKit));
for (const [name, value] of Object.entries(roomkit)) {
  if (name !== 'default' && name !== 'RoomKit' && !(name in global)) global[name] = value;
}
globalThis.RoomKit = Object.freeze(global);

// A call kit page hands the kit its ZIM plugin (zp.addPlugins({ ZIM })),
// loaded by a script of its own. roomkit needs none, so a page that drops
// that script finds ZIM defined still; a page that keeps it keeps its own.
if (!('ZIM' in globalThis)) globalThis.ZIM = Object.freeze({ roomkit: 'roomkit needs no ZIM plugin' });
