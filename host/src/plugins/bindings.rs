//! Host-side bindings of the WIT contract, generated from `wit/`.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "iam:plugin/host-view",
});
