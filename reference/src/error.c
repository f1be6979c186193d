/* error.c: names, strings and the errno <-> SocketError mapping, all
 * generated from the header's X-macro tables (ERR-03), and the helpers that
 * fill an apmsock_error_t. */
#include "apmsock-int.h"

#include <string.h>

static const char *const kind_names[] = {
#define XX(name, type) type,
  APMSOCK_KIND_MAP(XX)
#undef XX
};

static const struct se_row {
  int number;
  int errnum;
  const char *name;
  const char *text;
} se_rows[] = {
#define XX(name, dotnet, number, errnum, text) { number, errnum, dotnet, text },
  APMSOCK_SOCKET_ERROR_MAP(XX)
#undef XX
};

#define SE_COUNT (sizeof se_rows / sizeof se_rows[0])

static const struct se_row unknown_row = { 0, 0, "Unknown", "" };

static const struct se_row *se_row(int socket_error) {
  for (size_t i = 0; i < SE_COUNT; i++)
    if (se_rows[i].number == socket_error)
      return &se_rows[i];
  return &unknown_row;
}

const char *apmsock_kind_name(apmsock_kind_t kind) {
  if ((unsigned)kind >= APMSOCK_KIND_COUNT)
    return "Unknown";
  return kind_names[kind];
}

const char *apmsock_socket_error_name(int socket_error) {
  return se_row(socket_error)->name;
}

const char *apmsock_socket_error_text(int socket_error) {
  return se_row(socket_error)->text;
}

int apmsock_socket_error_from_errno(int errnum) {
  if (errnum == 0)
    return APMSOCK_SE_SUCCESS;
  if (errnum == EWOULDBLOCK)  /* equal to EAGAIN on Linux, distinct elsewhere */
    errnum = EAGAIN;
  for (size_t i = 0; i < SE_COUNT; i++)
    if (se_rows[i].errnum == errnum)
      return se_rows[i].number;
  return APMSOCK_SE_SOCKET_ERROR;
}

int apmsock__errno_of(int socket_error) {
  return se_row(socket_error)->errnum;
}

static const char *const kind_messages[APMSOCK_KIND_COUNT] = {
  [APMSOCK_OK] = "",
  [APMSOCK_ARGUMENT_NULL] = "Value cannot be null.",
  [APMSOCK_ARGUMENT_OUT_OF_RANGE] = "Specified argument was out of the range of valid values.",
  [APMSOCK_ARGUMENT] = "The IAsyncResult object was not returned from the corresponding "
                       "asynchronous method on this class.",
  [APMSOCK_INVALID_OPERATION] = "The operation is not valid in the current state.",
  [APMSOCK_OBJECT_DISPOSED] = "Cannot access a disposed object.",
  [APMSOCK_SOCKET] = "",
  [APMSOCK_SECURITY] = "The send policy denied the destination.",
  [APMSOCK_NOT_SUPPORTED] = "The operation is not supported on this socket.",
};

apmsock_kind_t apmsock__ok(apmsock_error_t *err) {
  if (err) {
    memset(err, 0, sizeof *err);
    err->message = "";
  }
  return APMSOCK_OK;
}

apmsock_kind_t apmsock__fail_outcome(apmsock_error_t *err, apmsock_kind_t kind,
                                     int socket_error, int errnum) {
  if (err) {
    err->kind = kind;
    err->param_name = NULL;
    err->socket_error = socket_error;
    err->native_errno = errnum;
    err->message = kind == APMSOCK_SOCKET ? apmsock_socket_error_text(socket_error)
                                          : kind_messages[kind];
  }
  return kind;
}

apmsock_kind_t apmsock__fail(apmsock_error_t *err, apmsock_kind_t kind, const char *param) {
  apmsock__fail_outcome(err, kind, 0, 0);
  if (err)
    err->param_name = param;
  return kind;
}

apmsock_kind_t apmsock__fail_se(apmsock_error_t *err, int socket_error) {
  return apmsock__fail_outcome(err, APMSOCK_SOCKET, socket_error,
                               apmsock__errno_of(socket_error));
}

apmsock_kind_t apmsock__errno_outcome(apmsock_error_t *err, int errnum) {
  return errnum ? apmsock__fail_errno(err, errnum) : apmsock__ok(err);
}

apmsock_kind_t apmsock__fail_errno(apmsock_error_t *err, int errnum) {
  return apmsock__fail_outcome(err, APMSOCK_SOCKET,
                               apmsock_socket_error_from_errno(errnum), errnum);
}
