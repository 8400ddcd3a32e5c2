// Pins: what keeps user memory alive while the kernel may use it.
//
// A request that points the kernel at a caller's ArrayBuffer holds a
// reference to V8's backing store (the memory itself, not the JS object)
// until its CQE. Detaching the ArrayBuffer (structuredClone or postMessage
// with a transfer list, ArrayBuffer.prototype.transfer) moves or drops the JS
// object's claim on the memory, but cannot free it while a pin holds it, so
// the kernel never writes into memory that was returned to the allocator.
//
// Node-API has no access to backing stores, so this file uses V8's API: the
// addon is then built for one Node ABI at a time (see binding.gyp).
// A napi_value is a V8 handle with the same representation as v8::Local
// (Node's own Node-API implementation converts between them by copying the
// pointer), which is how a view given to a Node-API function reaches V8 here.
#include <node_api.h>
#include <v8.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "pins.h"

namespace {

struct PinTable {
  std::vector<std::shared_ptr<v8::BackingStore>> slots;
  size_t live = 0;
};

v8::Local<v8::Value> local_of(napi_value v) {
  v8::Local<v8::Value> local;
  static_assert(sizeof(local) == sizeof(v), "napi_value and v8::Local differ in size");
  std::memcpy(static_cast<void *>(&local), &v, sizeof v);
  return local;
}

}  // namespace

extern "C" {

void *pins_create(void) { return new (std::nothrow) PinTable(); }

size_t pins_live(void *table) {
  return table ? static_cast<PinTable *>(table)->live : 0;
}

void pins_destroy(void *table) { delete static_cast<PinTable *>(table); }

// Pins the memory behind `value` (a TypedArray or DataView) in slot `id` and
// returns the address of the view's first byte, or a PIN_* error (< 0). The
// address and the extent come from V8's own fields, never from properties a
// caller can shadow. A slot already holding a pin keeps holding it until
// pins_unpin: ids are handed out by the TypeScript layer, one per live pin.
double pins_pin(void *table, uint32_t id, napi_value value) {
  PinTable *t = static_cast<PinTable *>(table);
  if (t == nullptr) return PIN_NOMEM;
  v8::Local<v8::Value> v = local_of(value);
  if (v.IsEmpty() || !v->IsArrayBufferView()) return PIN_NOT_VIEW;
  v8::Local<v8::ArrayBufferView> view = v.As<v8::ArrayBufferView>();
  v8::Local<v8::ArrayBuffer> ab = view->Buffer();
  if (ab.IsEmpty()) return PIN_NOT_VIEW;
  if (ab->WasDetached()) return PIN_DETACHED;
  std::shared_ptr<v8::BackingStore> store = ab->GetBackingStore();
  if (!store) return PIN_DETACHED;
  if (store->IsResizableByUserJavaScript()) return PIN_RESIZABLE;
  size_t off = view->ByteOffset();
  size_t len = view->ByteLength();
  if (off > store->ByteLength() || len > store->ByteLength() - off) return PIN_DETACHED;
  if (store->Data() == nullptr && store->ByteLength() != 0) return PIN_DETACHED;
  if (id >= t->slots.size()) t->slots.resize(static_cast<size_t>(id) + 64);
  if (!t->slots[id]) t->live++;
  t->slots[id] = std::move(store);
  uintptr_t base = reinterpret_cast<uintptr_t>(t->slots[id]->Data());
  return static_cast<double>(base + off);
}

void pins_unpin(void *table, uint32_t id) {
  PinTable *t = static_cast<PinTable *>(table);
  if (t == nullptr || id >= t->slots.size() || !t->slots[id]) return;
  t->slots[id].reset();
  t->live--;
}

}  // extern "C"
