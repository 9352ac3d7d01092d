/* A small JSON reader for the parameters TypeScript hands the launcher.
 * Values live in one arena freed with json_free(). */
#ifndef TSPOD_JSON_H
#define TSPOD_JSON_H
#include <stddef.h>

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_value {
  json_type type;
  double number;
  int boolean;
  char *string;              /* JSON_STRING: decoded, NUL-terminated */
  size_t count;              /* JSON_ARRAY / JSON_OBJECT: number of items */
  struct json_value **items; /* array items or object values */
  char **keys;               /* JSON_OBJECT: keys, parallel to items */
} json_value;

/* Parse text; returns NULL and fills err (a sentence) on malformed input. */
json_value *json_parse(const char *text, char *err, size_t errlen);
void json_free(json_value *v);

const json_value *json_get(const json_value *obj, const char *key);
/* Typed lookups with a default when the key is absent or of another type. */
const char *json_get_string(const json_value *obj, const char *key, const char *dflt);
double json_get_number(const json_value *obj, const char *key, double dflt);
int json_get_bool(const json_value *obj, const char *key, int dflt);

#endif
