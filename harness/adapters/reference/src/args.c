/* args.c: turns request arguments into C values.  Anything malformed is a
 * protocol_error naming the argument, never an implementation error: the
 * harness must be able to tell its own mistakes from the library's. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

void argp_init(argp_t *p, json_t *args) {
  p->args = args;
  p->why[0] = '\0';
}

bool argp_ok(const argp_t *p) { return p->why[0] == '\0'; }

json_t *argp_reply(const argp_t *p) { return reply_protocol_error("%s", p->why); }

void argp_fail(argp_t *p, const char *fmt, ...) {
  if (!argp_ok(p))
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->why, sizeof p->why, fmt, ap);
  va_end(ap);
  if (p->why[0] == '\0')
    strcpy(p->why, "bad arguments");
}

/* The value of `key`, or NULL after recording that it is missing. */
static json_t *required(argp_t *p, const char *key) {
  if (!argp_ok(p))
    return NULL;
  json_t *v = json_object_get(p->args, key);
  if (v == NULL)
    argp_fail(p, "missing argument \"%s\"", key);
  return v;
}

bool arg_int(argp_t *p, const char *key, int64_t lo, int64_t hi, int64_t *out) {
  json_t *v = required(p, key);
  if (v == NULL)
    return false;
  if (!json_is_integer(v)) {
    argp_fail(p, "argument \"%s\" must be an integer", key);
    return false;
  }
  json_int_t n = json_integer_value(v);
  if (n < lo || n > hi) {
    argp_fail(p, "argument \"%s\" out of range [%lld, %lld]", key, (long long)lo, (long long)hi);
    return false;
  }
  *out = n;
  return true;
}

bool arg_int32(argp_t *p, const char *key, int32_t *out) {
  int64_t n;
  if (!arg_int(p, key, INT32_MIN, INT32_MAX, &n))
    return false;
  *out = (int32_t)n;
  return true;
}

bool arg_bool_opt(argp_t *p, const char *key, bool dflt, bool *out) {
  if (!argp_ok(p))
    return false;
  json_t *v = json_object_get(p->args, key);
  if (v == NULL || json_is_null(v)) {
    *out = dflt;
    return true;
  }
  if (!json_is_boolean(v)) {
    argp_fail(p, "argument \"%s\" must be a boolean", key);
    return false;
  }
  *out = json_is_true(v);
  return true;
}

bool arg_string_or_null_opt(argp_t *p, const char *key, char **out) {
  *out = NULL;
  if (!argp_ok(p))
    return false;
  json_t *v = json_object_get(p->args, key);
  if (v == NULL || json_is_null(v))
    return true;
  if (!json_is_string(v)) {
    argp_fail(p, "argument \"%s\" must be a string or null", key);
    return false;
  }
  *out = strdup(json_string_value(v));
  if (*out == NULL) {
    argp_fail(p, "out of memory");
    return false;
  }
  return true;
}

bool arg_choice(argp_t *p, const char *key, const name_value_t *table, int *out) {
  json_t *v = required(p, key);
  if (v == NULL)
    return false;
  const char *s = json_string_value(v);
  for (const name_value_t *e = table; s != NULL && e->name != NULL; e++) {
    if (strcmp(s, e->name) == 0) {
      *out = e->value;
      return true;
    }
  }
  char names[160] = "";
  for (const name_value_t *e = table; e->name != NULL; e++) {
    strncat(names, e->name, sizeof names - strlen(names) - 2);
    if (e[1].name != NULL)
      strncat(names, "|", sizeof names - strlen(names) - 1);
  }
  argp_fail(p, "argument \"%s\" must be one of %s", key, names);
  return false;
}

bool arg_choice_opt(argp_t *p, const char *key, const name_value_t *table, int *out) {
  json_t *v = json_object_get(p->args, key);
  if (v == NULL || json_is_null(v))
    return argp_ok(p);   /* *out keeps its default */
  return arg_choice(p, key, table, out);
}

bool arg_socket(argp_t *p, const char *key, apmsock_socket_t *out) {
  json_t *v = required(p, key);
  if (v == NULL)
    return false;
  if (json_is_null(v)) {
    *out = APMSOCK_NULL_SOCKET;
    return true;
  }
  if (!json_is_string(v) || !registry_socket(json_string_value(v), out)) {
    argp_fail(p, "argument \"%s\": no socket of that name", key);
    return false;
  }
  return true;
}

bool arg_result(argp_t *p, const char *key, apmsock_result_t *out, op_rec_t **rec) {
  *rec = NULL;
  json_t *v = required(p, key);
  if (v == NULL)
    return false;
  if (json_is_null(v)) {
    *out = APMSOCK_NULL_RESULT;
    return true;
  }
  if (!json_is_string(v) || (*rec = registry_op(json_string_value(v))) == NULL) {
    argp_fail(p, "argument \"%s\": no result of that name", key);
    return false;
  }
  *out = registry_op_result(*rec);
  return true;
}

bool parse_endpoint(json_t *v, struct sockaddr_storage *out, char *why, size_t why_len) {
  memset(out, 0, sizeof *out);
  json_t *address = json_object_get(v, "address");
  json_t *port = json_object_get(v, "port");
  if (!json_is_object(v) || !json_is_string(address) || !json_is_integer(port)) {
    snprintf(why, why_len, "an endpoint is {\"address\": string, \"port\": integer}");
    return false;
  }
  json_int_t pn = json_integer_value(port);
  if (pn < 0 || pn > 65535) {
    snprintf(why, why_len, "endpoint port %lld out of range", (long long)pn);
    return false;
  }
  const char *a = json_string_value(address);
  struct sockaddr_in *v4 = (struct sockaddr_in *)out;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
  if (inet_pton(AF_INET, a, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)pn);
    return true;
  }
  if (inet_pton(AF_INET6, a, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)pn);
    return true;
  }
  snprintf(why, why_len, "endpoint address \"%.64s\" is not an IPv4 or IPv6 literal", a);
  return false;
}

bool arg_endpoint(argp_t *p, const char *key, struct sockaddr_storage *out, bool *is_null) {
  *is_null = false;
  json_t *v = required(p, key);
  if (v == NULL)
    return false;
  if (json_is_null(v)) {
    *is_null = true;
    memset(out, 0, sizeof *out);
    return true;
  }
  char why[160];
  if (!parse_endpoint(v, out, why, sizeof why)) {
    argp_fail(p, "argument \"%s\": %s", key, why);
    return false;
  }
  return true;
}

json_t *endpoint_json(const struct sockaddr_storage *ss) {
  char text[INET6_ADDRSTRLEN];
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    return json_pack("{s:s, s:i}", "address", text, "port", ntohs(v4->sin_port));
  }
  if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    return json_pack("{s:s, s:i}", "address", text, "port", ntohs(v6->sin6_port));
  }
  return json_null();
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Fills *out with a fresh allocation of `n` bytes (at least one byte). */
static uint8_t *alloc_bytes(argp_t *p, size_t n) {
  if (n > ADAPTER_MAX_BUFFER) {
    argp_fail(p, "buffer of %zu bytes is larger than the adapter's limit (%d)", n,
              ADAPTER_MAX_BUFFER);
    return NULL;
  }
  uint8_t *b = malloc(n ? n : 1);
  if (b == NULL)
    argp_fail(p, "out of memory for a buffer of %zu bytes", n);
  return b;
}

bool arg_buffer(argp_t *p, const char *key, uint8_t **out, int32_t *length) {
  *out = NULL;
  *length = 0;
  json_t *v = required(p, key);
  if (v == NULL)
    return false;
  if (json_is_null(v))
    return true;
  json_t *hex = json_object_get(v, "hex");
  json_t *text = json_object_get(v, "text");
  json_t *pattern = json_object_get(v, "pattern");
  if (!json_is_object(v) || json_object_size(v) != 1 || (!hex && !text && !pattern)) {
    argp_fail(p, "argument \"%s\": a buffer is null, {\"hex\"}, {\"text\"} or {\"pattern\"}", key);
    return false;
  }
  uint8_t *b = NULL;
  size_t n = 0;
  if (hex != NULL) {
    const char *h = json_string_value(hex);
    size_t hl = h ? json_string_length(hex) : 1;
    if (h == NULL || hl % 2 != 0) {
      argp_fail(p, "argument \"%s\": hex must be a string of an even length", key);
      return false;
    }
    n = hl / 2;
    if ((b = alloc_bytes(p, n)) == NULL)
      return false;
    for (size_t i = 0; i < n; i++) {
      int hi = hex_digit(h[2 * i]), lo = hex_digit(h[2 * i + 1]);
      if (hi < 0 || lo < 0) {
        free(b);
        argp_fail(p, "argument \"%s\": hex has a non-hex character", key);
        return false;
      }
      b[i] = (uint8_t)(hi << 4 | lo);
    }
  } else if (text != NULL) {
    if (!json_is_string(text)) {
      argp_fail(p, "argument \"%s\": text must be a string", key);
      return false;
    }
    n = json_string_length(text);
    const char *t = json_string_value(text);
    for (size_t i = 0; i < n; i++) {
      if ((unsigned char)t[i] > 0x7f) {
        argp_fail(p, "argument \"%s\": text must be ASCII (use hex for other bytes)", key);
        return false;
      }
    }
    if ((b = alloc_bytes(p, n)) == NULL)
      return false;
    memcpy(b, t, n);
  } else {
    json_t *len = json_object_get(pattern, "length");
    json_t *seed = json_object_get(pattern, "seed");
    if (!json_is_integer(len) || !json_is_integer(seed) || json_integer_value(len) < 0) {
      argp_fail(p, "argument \"%s\": pattern is {\"length\": n >= 0, \"seed\": integer}", key);
      return false;
    }
    n = (size_t)json_integer_value(len);
    if ((b = alloc_bytes(p, n)) == NULL)
      return false;
    /* byte i is (seed + i) mod 251, the seed reduced first so it may be
     * any integer, negative ones included. */
    long long s = json_integer_value(seed) % 251;
    unsigned v0 = (unsigned)(s < 0 ? s + 251 : s);
    /* One period by arithmetic, the rest by copying what is already there,
     * doubling each time: a multi-megabyte pattern costs a few memcpy calls
     * instead of two divisions per byte. */
    size_t done = n < 251 ? n : 251;
    for (size_t i = 0; i < done; i++)
      b[i] = (uint8_t)((v0 + i) % 251);
    while (done < n) {
      size_t chunk = done < n - done ? done : n - done;
      memcpy(b + done, b, chunk);
      done += chunk;
    }
  }
  *out = b;
  *length = (int32_t)n;
  return true;
}
