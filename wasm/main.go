//go:build js && wasm

// Command wasm is the roomkit browser module (roomkit.wasm): it installs
// globalThis.roomkit through the bridge and then waits for calls.
package main

import "roomkit/bridge"

func main() {
	bridge.Install()
	select {}
}
