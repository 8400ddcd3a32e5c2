// The pin table of one ring (pins.cc): C linkage for uring.c.
#ifndef URING_PINS_H
#define URING_PINS_H
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// pins_pin's errors, distinct from any address.
#define PIN_NOT_VIEW -1
#define PIN_DETACHED -2
#define PIN_RESIZABLE -3
#define PIN_NOMEM -4

void *pins_create(void);
void pins_destroy(void *table);
size_t pins_live(void *table);
double pins_pin(void *table, uint32_t id, napi_value view);
void pins_unpin(void *table, uint32_t id);

#ifdef __cplusplus
}
#endif
#endif
