#define _GNU_SOURCE
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *p;
  char *err;
  size_t errlen;
  int depth;
} parser;

static void fail(parser *ps, const char *msg) {
  if (ps->err && ps->err[0] == '\0') snprintf(ps->err, ps->errlen, "%s", msg);
}

static void skip_ws(parser *ps) {
  while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r') ps->p++;
}

static json_value *new_value(json_type t) {
  json_value *v = calloc(1, sizeof *v);
  if (v) v->type = t;
  return v;
}

static int append_utf8(char **out, size_t *len, size_t *cap, unsigned cp) {
  char tmp[4];
  size_t n;
  if (cp < 0x80) { tmp[0] = (char)cp; n = 1; }
  else if (cp < 0x800) { tmp[0] = (char)(0xC0 | (cp >> 6)); tmp[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
  else if (cp < 0x10000) {
    tmp[0] = (char)(0xE0 | (cp >> 12)); tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    tmp[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
  } else {
    tmp[0] = (char)(0xF0 | (cp >> 18)); tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); tmp[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
  }
  if (*len + n + 1 > *cap) {
    *cap = (*cap + n + 1) * 2;
    char *bigger = realloc(*out, *cap);
    if (!bigger) return -1;
    *out = bigger;
  }
  memcpy(*out + *len, tmp, n);
  *len += n;
  return 0;
}

static int hex4(const char *s, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return -1;
  }
  *out = v;
  return 0;
}

static char *parse_string_raw(parser *ps) {
  if (*ps->p != '"') { fail(ps, "expected a string"); return NULL; }
  ps->p++;
  size_t len = 0, cap = 32;
  char *out = malloc(cap);
  if (!out) return NULL;
  while (*ps->p && *ps->p != '"') {
    unsigned cp;
    if (*ps->p == '\\') {
      ps->p++;
      switch (*ps->p) {
        case '"': cp = '"'; break;
        case '\\': cp = '\\'; break;
        case '/': cp = '/'; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
          if (hex4(ps->p + 1, &cp) < 0) { fail(ps, "bad \\u escape"); free(out); return NULL; }
          ps->p += 4;
          if (cp >= 0xD800 && cp < 0xDC00 && ps->p[1] == '\\' && ps->p[2] == 'u') {
            unsigned lo;
            if (hex4(ps->p + 3, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
              ps->p += 6;
            }
          }
          break;
        default: fail(ps, "bad escape in string"); free(out); return NULL;
      }
      ps->p++;
    } else {
      cp = (unsigned char)*ps->p++;
      if (cp < 0x20) { fail(ps, "control character in string"); free(out); return NULL; }
      /* Raw UTF-8 bytes pass through unchanged. */
      if (len + 2 > cap) { cap *= 2; char *b = realloc(out, cap); if (!b) { free(out); return NULL; } out = b; }
      out[len++] = (char)cp;
      continue;
    }
    if (append_utf8(&out, &len, &cap, cp) < 0) { free(out); return NULL; }
  }
  if (*ps->p != '"') { fail(ps, "unterminated string"); free(out); return NULL; }
  ps->p++;
  out[len] = '\0';
  return out;
}

static json_value *parse_value(parser *ps);

static int push_item(json_value *v, json_value *item, char *key) {
  json_value **items = realloc(v->items, (v->count + 1) * sizeof *items);
  if (!items) return -1;
  v->items = items;
  if (v->type == JSON_OBJECT) {
    char **keys = realloc(v->keys, (v->count + 1) * sizeof *keys);
    if (!keys) return -1;
    v->keys = keys;
    v->keys[v->count] = key;
  }
  v->items[v->count++] = item;
  return 0;
}

static json_value *parse_container(parser *ps, int is_object) {
  json_value *v = new_value(is_object ? JSON_OBJECT : JSON_ARRAY);
  if (!v) return NULL;
  char close = is_object ? '}' : ']';
  ps->p++;
  skip_ws(ps);
  if (*ps->p == close) { ps->p++; return v; }
  for (;;) {
    char *key = NULL;
    skip_ws(ps);
    if (is_object) {
      key = parse_string_raw(ps);
      if (!key) { json_free(v); return NULL; }
      skip_ws(ps);
      if (*ps->p != ':') { fail(ps, "expected ':' in object"); free(key); json_free(v); return NULL; }
      ps->p++;
    }
    json_value *item = parse_value(ps);
    if (!item || push_item(v, item, key) < 0) { free(key); json_free(item); json_free(v); return NULL; }
    skip_ws(ps);
    if (*ps->p == ',') { ps->p++; continue; }
    if (*ps->p == close) { ps->p++; return v; }
    fail(ps, is_object ? "expected ',' or '}' in object" : "expected ',' or ']' in array");
    json_free(v);
    return NULL;
  }
}

static json_value *parse_value(parser *ps) {
  if (++ps->depth > 64) { fail(ps, "JSON nested too deeply"); return NULL; }
  skip_ws(ps);
  json_value *v = NULL;
  char c = *ps->p;
  if (c == '{' || c == '[') {
    v = parse_container(ps, c == '{');
  } else if (c == '"') {
    char *s = parse_string_raw(ps);
    if (s && (v = new_value(JSON_STRING))) v->string = s; else free(s);
  } else if (strncmp(ps->p, "true", 4) == 0 || strncmp(ps->p, "false", 5) == 0) {
    v = new_value(JSON_BOOL);
    if (v) v->boolean = c == 't';
    ps->p += c == 't' ? 4 : 5;
  } else if (strncmp(ps->p, "null", 4) == 0) {
    v = new_value(JSON_NULL);
    ps->p += 4;
  } else if (c == '-' || (c >= '0' && c <= '9')) {
    char *end;
    double d = strtod(ps->p, &end);
    if (end == ps->p) { fail(ps, "bad number"); }
    else if ((v = new_value(JSON_NUMBER))) { v->number = d; ps->p = end; }
  } else {
    fail(ps, "unexpected character in JSON");
  }
  ps->depth--;
  return v;
}

json_value *json_parse(const char *text, char *err, size_t errlen) {
  parser ps = {text, err, errlen, 0};
  if (err && errlen) err[0] = '\0';
  json_value *v = parse_value(&ps);
  if (!v) { fail(&ps, "malformed JSON"); return NULL; }
  skip_ws(&ps);
  if (*ps.p) { fail(&ps, "trailing characters after JSON"); json_free(v); return NULL; }
  return v;
}

void json_free(json_value *v) {
  if (!v) return;
  for (size_t i = 0; i < v->count; i++) {
    json_free(v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v->string);
  free(v);
}

const json_value *json_get(const json_value *obj, const char *key) {
  if (!obj || obj->type != JSON_OBJECT) return NULL;
  for (size_t i = 0; i < obj->count; i++)
    if (strcmp(obj->keys[i], key) == 0) return obj->items[i];
  return NULL;
}

const char *json_get_string(const json_value *obj, const char *key, const char *dflt) {
  const json_value *v = json_get(obj, key);
  return v && v->type == JSON_STRING ? v->string : dflt;
}

double json_get_number(const json_value *obj, const char *key, double dflt) {
  const json_value *v = json_get(obj, key);
  return v && v->type == JSON_NUMBER ? v->number : dflt;
}

int json_get_bool(const json_value *obj, const char *key, int dflt) {
  const json_value *v = json_get(obj, key);
  return v && v->type == JSON_BOOL ? v->boolean : dflt;
}
