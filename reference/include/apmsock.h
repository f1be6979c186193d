/*
 * apmsock.h: the C contract of the asynchronous send API of .NET sockets in
 * its Begin/End (APM) shape: BeginSend/EndSend and BeginSendTo/EndSendTo.
 *
 * This header is the contract.  The reference implementation (reference/)
 * implements it on libuv; the C conformance suite (conformance/) compiles
 * against it alone and links against any library that implements it.  It
 * stands alone: it needs only the C standard library and the POSIX socket
 * address types.
 *
 * Normative source: the Socket.BeginSend and Socket.BeginSendTo reference
 * pages, quoted verbatim in the catalogue, fixtures/clauses.yaml; clause IDs
 * (ARG-01, CONN-07, ...) refer to it (docs/DESIGN.md).
 *
 * Design notes (the invariants every implementation keeps)
 * --------------------------------------------------------
 *  - Handles, not pointers.  A socket and an async result are small values
 *    (apmsock_socket_t, apmsock_result_t) that name a slot and a generation.
 *    A closed socket, a released result, a result of another socket and the
 *    zero handle are all detected and answered with their documented error;
 *    no call ever dereferences freed memory because of a stale handle.
 *  - Every call reports its outcome the same way: the return value is an
 *    apmsock_kind_t (APMSOCK_OK == 0, or the .NET exception the call would
 *    throw), and when `err` is not NULL it is filled with the details
 *    (ParamName, SocketError number, native errno).  `err` may always be NULL.
 *  - A Begin that fails starts no operation: no bytes on the wire, no
 *    callback, no result (ARG-10).  *result_out is set to APMSOCK_NULL_RESULT.
 *  - A Begin that succeeds starts exactly one operation, and every operation
 *    completes exactly once: by finishing its transfer, by failing, by being
 *    aborted because the thread that began it exited (CANCEL-01), or by
 *    being aborted because its socket was closed (CANCEL-04).
 *  - The callback, when given, runs exactly once per operation, after the
 *    operation has completed, never inside Begin and never on the thread
 *    that called Begin (ASYNC-02).  The result is already completed when it
 *    runs (ASYNC-03); End called from the callback does not block.
 *  - End blocks until the operation has completed (ASYNC-05), then reports
 *    its outcome once.  A second End on the same result is
 *    InvalidOperationException (END-03).
 *  - Error placement, `documented` profile (docs/DESIGN.md section 3): errors of the
 *    socket's state known before any byte is sent (disposed, not connected,
 *    invalid flags, denied by policy) come from Begin for both methods.
 *    Errors of the transmission itself (message too large, broadcast not
 *    allowed, unreachable, would block, reset, shut down for sending) come
 *    from Begin for BeginSend and from End for BeginSendTo.
 *
 * Threads
 * -------
 * Every function may be called from any thread, concurrently, unless its
 * comment says otherwise.  An implementation runs callbacks on threads of its
 * own.  "Blocks" below means the call may wait for another thread or the
 * network; everything else returns without waiting.
 */
#ifndef APMSOCK_H
#define APMSOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <errno.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this contract (not of an implementation).  A minor bump
 * adds; a major bump changes what existing callers rely on. */
#define APMSOCK_CONTRACT_VERSION_MAJOR 1
#define APMSOCK_CONTRACT_VERSION_MINOR 0
#define APMSOCK_CONTRACT_VERSION "1.0"

#if defined(__GNUC__) && !defined(APMSOCK_STATIC)
#define APMSOCK_API __attribute__((visibility("default")))
#else
#define APMSOCK_API
#endif

/* ------------------------------------------------------------------------ */
/* Outcomes: the .NET exception a call would throw.                          */

/* XX(NAME, .NET exception type name) */
#define APMSOCK_KIND_MAP(XX)                                                  \
  XX(OK, "")                                                                  \
  XX(ARGUMENT_NULL, "System.ArgumentNullException")                           \
  XX(ARGUMENT_OUT_OF_RANGE, "System.ArgumentOutOfRangeException")             \
  XX(ARGUMENT, "System.ArgumentException")                                    \
  XX(INVALID_OPERATION, "System.InvalidOperationException")                   \
  XX(OBJECT_DISPOSED, "System.ObjectDisposedException")                       \
  XX(SOCKET, "System.Net.Sockets.SocketException")                            \
  XX(SECURITY, "System.Security.SecurityException")                           \
  XX(NOT_SUPPORTED, "System.NotSupportedException")

typedef enum apmsock_kind {
#define APMSOCK_KIND_ENUM(name, type) APMSOCK_##name,
  APMSOCK_KIND_MAP(APMSOCK_KIND_ENUM)
#undef APMSOCK_KIND_ENUM
  APMSOCK_KIND_COUNT
} apmsock_kind_t;

/* The .NET SocketError values (the WSA numbers) and the native errno each
 * stands for.  This is the one errno <-> SocketError table (ERR-03): names,
 * numbers, strings and the errno mapping are all generated from it.
 * XX(NAME, .NET name, SocketError number, errno or 0, description) */
#define APMSOCK_SOCKET_ERROR_MAP(XX)                                                   \
  XX(SUCCESS, "Success", 0, 0, "the operation succeeded")                              \
  XX(OPERATION_ABORTED, "OperationAborted", 995, ECANCELED,                            \
     "the operation was aborted because the socket was closed or its thread exited")   \
  XX(IO_PENDING, "IOPending", 997, 0, "the operation is pending")                      \
  XX(INTERRUPTED, "Interrupted", 10004, EINTR, "a blocking call was interrupted")      \
  XX(ACCESS_DENIED, "AccessDenied", 10013, EACCES,                                     \
     "access denied, e.g. a broadcast without the Broadcast option")                   \
  XX(FAULT, "Fault", 10014, EFAULT, "a bad address was given")                         \
  XX(INVALID_ARGUMENT, "InvalidArgument", 10022, EINVAL, "an invalid argument")        \
  XX(TOO_MANY_OPEN_SOCKETS, "TooManyOpenSockets", 10024, EMFILE,                       \
     "too many open sockets")                                                          \
  XX(WOULD_BLOCK, "WouldBlock", 10035, EAGAIN,                                         \
     "a non-blocking socket cannot complete the operation now")                        \
  XX(IN_PROGRESS, "InProgress", 10036, EINPROGRESS, "a blocking operation is in progress") \
  XX(ALREADY_IN_PROGRESS, "AlreadyInProgress", 10037, EALREADY,                        \
     "an operation is already in progress")                                            \
  XX(NOT_SOCKET, "NotSocket", 10038, ENOTSOCK, "not a socket")                         \
  XX(DESTINATION_ADDRESS_REQUIRED, "DestinationAddressRequired", 10039, EDESTADDRREQ,  \
     "a destination address is required")                                              \
  XX(MESSAGE_SIZE, "MessageSize", 10040, EMSGSIZE,                                     \
     "the datagram is larger than the maximum packet size")                            \
  XX(PROTOCOL_TYPE, "ProtocolType", 10041, EPROTOTYPE, "wrong protocol type")          \
  XX(PROTOCOL_OPTION, "ProtocolOption", 10042, ENOPROTOOPT, "unknown protocol option") \
  XX(PROTOCOL_NOT_SUPPORTED, "ProtocolNotSupported", 10043, EPROTONOSUPPORT,           \
     "protocol not supported")                                                         \
  XX(SOCKET_NOT_SUPPORTED, "SocketNotSupported", 10044, ESOCKTNOSUPPORT,               \
     "socket type not supported")                                                      \
  XX(OPERATION_NOT_SUPPORTED, "OperationNotSupported", 10045, EOPNOTSUPP,              \
     "operation not supported, e.g. invalid SocketFlags")                              \
  XX(PROTOCOL_FAMILY_NOT_SUPPORTED, "ProtocolFamilyNotSupported", 10046, EPFNOSUPPORT, \
     "protocol family not supported")                                                  \
  XX(ADDRESS_FAMILY_NOT_SUPPORTED, "AddressFamilyNotSupported", 10047, EAFNOSUPPORT,   \
     "the address family is not supported by this socket")                            \
  XX(ADDRESS_ALREADY_IN_USE, "AddressAlreadyInUse", 10048, EADDRINUSE,                 \
     "address already in use")                                                         \
  XX(ADDRESS_NOT_AVAILABLE, "AddressNotAvailable", 10049, EADDRNOTAVAIL,               \
     "address not available")                                                          \
  XX(NETWORK_DOWN, "NetworkDown", 10050, ENETDOWN, "the network is down")              \
  XX(NETWORK_UNREACHABLE, "NetworkUnreachable", 10051, ENETUNREACH,                    \
     "the network is unreachable")                                                     \
  XX(NETWORK_RESET, "NetworkReset", 10052, ENETRESET, "the network dropped the connection") \
  XX(CONNECTION_ABORTED, "ConnectionAborted", 10053, ECONNABORTED,                     \
     "the connection was aborted")                                                     \
  XX(CONNECTION_RESET, "ConnectionReset", 10054, ECONNRESET,                           \
     "the connection was reset by the peer")                                           \
  XX(NO_BUFFER_SPACE_AVAILABLE, "NoBufferSpaceAvailable", 10055, ENOBUFS,              \
     "no buffer space available")                                                      \
  XX(IS_CONNECTED, "IsConnected", 10056, EISCONN, "the socket is already connected")   \
  XX(NOT_CONNECTED, "NotConnected", 10057, ENOTCONN, "the socket is not connected")    \
  XX(SHUTDOWN, "Shutdown", 10058, EPIPE,                                               \
     "the socket was shut down for sending")                                           \
  XX(TIMED_OUT, "TimedOut", 10060, ETIMEDOUT, "the operation timed out")               \
  XX(CONNECTION_REFUSED, "ConnectionRefused", 10061, ECONNREFUSED,                     \
     "the connection was refused")                                                     \
  XX(HOST_DOWN, "HostDown", 10064, EHOSTDOWN, "the host is down")                      \
  XX(HOST_UNREACHABLE, "HostUnreachable", 10065, EHOSTUNREACH, "no route to the host") \
  XX(SOCKET_ERROR, "SocketError", -1, 0, "an unspecified socket error")

typedef enum apmsock_socket_error {
#define APMSOCK_SOCKET_ERROR_ENUM(name, dotnet, number, errnum, text)         \
  APMSOCK_SE_##name = (number),
  APMSOCK_SOCKET_ERROR_MAP(APMSOCK_SOCKET_ERROR_ENUM)
#undef APMSOCK_SOCKET_ERROR_ENUM
} apmsock_socket_error_t;

/* What a failed call reports.  Owned by the caller; the strings are static
 * and live as long as the library is loaded. */
typedef struct apmsock_error {
  apmsock_kind_t kind;      /* same as the call's return value */
  const char *param_name;   /* .NET ParamName ("buffer", "offset", "size",
                               "remoteEP", "asyncResult", ...) or NULL */
  int socket_error;         /* an apmsock_socket_error_t when kind is SOCKET
                               (and OPERATION_ABORTED on OBJECT_DISPOSED from
                               End after a close), else 0 */
  int native_errno;         /* the errno behind a socket error, else 0 */
  const char *message;      /* a sentence for people, never NULL after a
                               call that failed */
} apmsock_error_t;

/* Names and strings, generated from the tables above.  Any thread, never
 * block, return static strings ("" / "Unknown" for values not in a table). */
APMSOCK_API const char *apmsock_kind_name(apmsock_kind_t kind);       /* "System.ArgumentNullException" */
APMSOCK_API const char *apmsock_socket_error_name(int socket_error);  /* "MessageSize" */
APMSOCK_API const char *apmsock_socket_error_text(int socket_error);  /* the description */
/* The SocketError an errno maps to (ERR-03); SOCKET_ERROR (-1) for an errno
 * not in the table, SUCCESS for 0.  EWOULDBLOCK maps like EAGAIN. */
APMSOCK_API int apmsock_socket_error_from_errno(int errnum);

/* ------------------------------------------------------------------------ */
/* Values that mirror .NET enums (the same numbers).                         */

enum apmsock_address_family {        /* System.Net.Sockets.AddressFamily */
  APMSOCK_AF_INET = 2,               /* InterNetwork */
  APMSOCK_AF_INET6 = 23              /* InterNetworkV6 */
};

enum apmsock_socket_type {           /* System.Net.Sockets.SocketType; the
                                        protocol follows: Stream is TCP,
                                        Dgram is UDP */
  APMSOCK_STREAM = 1,
  APMSOCK_DGRAM = 2
};

enum apmsock_socket_flags {          /* System.Net.Sockets.SocketFlags */
  APMSOCK_FLAG_NONE = 0x0000,
  APMSOCK_FLAG_OUT_OF_BAND = 0x0001,
  APMSOCK_FLAG_PEEK = 0x0002,
  APMSOCK_FLAG_DONT_ROUTE = 0x0004,
  APMSOCK_FLAG_MAX_IO_VECTOR_LENGTH = 0x0010,
  APMSOCK_FLAG_TRUNCATED = 0x0100,
  APMSOCK_FLAG_CONTROL_DATA_TRUNCATED = 0x0200,
  APMSOCK_FLAG_BROADCAST = 0x0400,
  APMSOCK_FLAG_MULTICAST = 0x0800,
  APMSOCK_FLAG_PARTIAL = 0x8000
};
/* The flags a send accepts (ERR-01): None, OutOfBand (stream sockets only)
 * and DontRoute.  Any other bit, defined for receiving only or not defined at
 * all, is SocketException OperationNotSupported (10045) from Begin; so is
 * OutOfBand on a datagram socket. */
#define APMSOCK_SEND_FLAGS_VALID (APMSOCK_FLAG_OUT_OF_BAND | APMSOCK_FLAG_DONT_ROUTE)

enum apmsock_shutdown_how {          /* System.Net.Sockets.SocketShutdown */
  APMSOCK_SHUTDOWN_RECEIVE = 0,
  APMSOCK_SHUTDOWN_SEND = 1,
  APMSOCK_SHUTDOWN_BOTH = 2
};

typedef enum apmsock_option {
  APMSOCK_OPT_BROADCAST = 1,         /* SocketOptionName.Broadcast: 0 or 1 */
  APMSOCK_OPT_SEND_BUFFER = 2,       /* SocketOptionName.SendBuffer: bytes */
  APMSOCK_OPT_RECEIVE_BUFFER = 3,    /* SocketOptionName.ReceiveBuffer: bytes */
  APMSOCK_OPT_BLOCKING = 4,          /* Socket.Blocking: 0 or 1, default 1 */
  APMSOCK_OPT_DUAL_MODE = 5,         /* Socket.DualMode (IPv6 only): 0 or 1 */
  APMSOCK_OPT_NO_DELAY = 6           /* SocketOptionName.NoDelay (TCP): 0 or 1 */
} apmsock_option_t;

/* ------------------------------------------------------------------------ */
/* Handles.                                                                  */

/* A socket.  The zero value is "null" (APMSOCK_NULL_SOCKET).  Copyable; it
 * stays a valid value forever, and after close every call on it answers
 * ObjectDisposedException (ERR-04). */
typedef struct apmsock_socket { uint64_t handle; } apmsock_socket_t;

/* An async result (IAsyncResult).  The zero value is "null"
 * (APMSOCK_NULL_RESULT).  It stays valid, whatever happens to its socket,
 * until the caller releases it with apmsock_result_release(); afterwards
 * every call on it answers ArgumentException("asyncResult"). */
typedef struct apmsock_result { uint64_t handle; } apmsock_result_t;

#define APMSOCK_NULL_SOCKET ((apmsock_socket_t){0})
#define APMSOCK_NULL_RESULT ((apmsock_result_t){0})

/* AsyncCallback.  Runs exactly once per operation that Begin started, on a
 * thread of the implementation that is not the thread that called Begin,
 * after the operation completed.  It may call any function of this header,
 * End and apmsock_result_release() on its own result included; the state is
 * apmsock_result_state(result). */
typedef void (*apmsock_callback_t)(apmsock_result_t result);

/* ------------------------------------------------------------------------ */
/* Implementation identity and library lifetime.                             */

/* Static strings: the implementation's name ("apmsock-reference"), its
 * version, and the contract version it implements (APMSOCK_CONTRACT_VERSION
 * of the header it was built with).  Any thread, never block. */
APMSOCK_API const char *apmsock_implementation_name(void);
APMSOCK_API const char *apmsock_implementation_version(void);
APMSOCK_API const char *apmsock_implementation_contract(void);

/* The library starts itself on first use.  apmsock_cleanup() closes every
 * socket still open (their pending operations complete as aborted and run
 * their callbacks), waits for the callbacks, stops the library's threads
 * and frees everything, results not yet released included.  Blocks.  Must
 * not be called from a callback or concurrently with any other call; the
 * library may be used again afterwards and starts anew.  A start that fails
 * (a thread or the event loop cannot be made) is undone entirely and is the
 * SocketException of the call that needed it (its errno: EAGAIN, ENOMEM...);
 * the next call tries again. */
APMSOCK_API void apmsock_cleanup(void);

/* ------------------------------------------------------------------------ */
/* Sockets.  Each returns APMSOCK_OK or the kind of the exception; a bad
 * handle is ArgumentNullException("socket") for the zero handle and
 * ObjectDisposedException for a closed one.                                */

/* new Socket(family, type, protocol).  Never blocks. */
APMSOCK_API apmsock_kind_t apmsock_socket_open(int family, int type,
                                               apmsock_socket_t *out,
                                               apmsock_error_t *err);

/* Bind, Connect, Listen, Accept: the synchronous forms.  connect and accept
 * block (a non-blocking socket answers WouldBlock instead of waiting).
 * For a datagram socket connect sets the default remote host and may be
 * called again to change it (CONN-09).  `addr` is a sockaddr_in or
 * sockaddr_in6, read during the call only. */
APMSOCK_API apmsock_kind_t apmsock_bind(apmsock_socket_t s, const struct sockaddr *addr,
                                        apmsock_error_t *err);
APMSOCK_API apmsock_kind_t apmsock_connect(apmsock_socket_t s, const struct sockaddr *addr,
                                           apmsock_error_t *err);
APMSOCK_API apmsock_kind_t apmsock_listen(apmsock_socket_t s, int backlog,
                                          apmsock_error_t *err);
APMSOCK_API apmsock_kind_t apmsock_accept(apmsock_socket_t s, apmsock_socket_t *accepted,
                                          apmsock_error_t *err);

/* BeginConnect/EndConnect and BeginAccept/EndAccept: same rules for results
 * and callbacks as the sends below.  End blocks until completion.  An
 * EndAccept that fails (an accept aborted by Close) sets *accepted to
 * APMSOCK_NULL_SOCKET. */
APMSOCK_API apmsock_kind_t apmsock_begin_connect(apmsock_socket_t s, const struct sockaddr *addr,
                                                 apmsock_callback_t callback, void *state,
                                                 apmsock_result_t *result_out,
                                                 apmsock_error_t *err);
APMSOCK_API apmsock_kind_t apmsock_end_connect(apmsock_socket_t s, apmsock_result_t result,
                                               apmsock_error_t *err);
APMSOCK_API apmsock_kind_t apmsock_begin_accept(apmsock_socket_t s,
                                                apmsock_callback_t callback, void *state,
                                                apmsock_result_t *result_out,
                                                apmsock_error_t *err);
APMSOCK_API apmsock_kind_t apmsock_end_accept(apmsock_socket_t s, apmsock_result_t result,
                                              apmsock_socket_t *accepted,
                                              apmsock_error_t *err);

/* SetSocketOption / Blocking / DualMode, and their getters.  Never block. */
APMSOCK_API apmsock_kind_t apmsock_set_option(apmsock_socket_t s, apmsock_option_t option,
                                              int32_t value, apmsock_error_t *err);
APMSOCK_API apmsock_kind_t apmsock_get_option(apmsock_socket_t s, apmsock_option_t option,
                                              int32_t *value, apmsock_error_t *err);

/* LocalEndPoint / RemoteEndPoint.  Writes the address into *out; a socket
 * with no such endpoint yet (the .NET null) gets ss_family = AF_UNSPEC. */
APMSOCK_API apmsock_kind_t apmsock_local_endpoint(apmsock_socket_t s,
                                                  struct sockaddr_storage *out,
                                                  apmsock_error_t *err);
APMSOCK_API apmsock_kind_t apmsock_remote_endpoint(apmsock_socket_t s,
                                                   struct sockaddr_storage *out,
                                                   apmsock_error_t *err);

/* Shutdown(how), how an apmsock_shutdown_how.  Never blocks. */
APMSOCK_API apmsock_kind_t apmsock_shutdown(apmsock_socket_t s, int how, apmsock_error_t *err);

/* Close (Dispose).  Operations still pending complete, each exactly once,
 * as aborted (OperationAborted 995) and run their callbacks (CANCEL-04);
 * End on them then answers ObjectDisposedException carrying socket_error
 * 995 (END-05).  Operations that had completed keep their results.  Closing
 * twice, or closing the zero handle, is a no-op returning APMSOCK_OK.
 * Blocks until no callback of this socket's aborted operations is still to
 * be scheduled (not until they have run: it may be called from a
 * callback). */
APMSOCK_API apmsock_kind_t apmsock_close(apmsock_socket_t s, apmsock_error_t *err);

/* ------------------------------------------------------------------------ */
/* The asynchronous send API.                                                */

/* BeginSend(buffer, offset, size, flags, callback, state).
 *
 * `buffer` and `buffer_length` stand for the .NET byte[] and its Length;
 * buffer == NULL is the null array (ARG-01).  offset and size are signed so
 * that the documented negative cases can be expressed (ARG-02..ARG-05,
 * ARG-08: offset + size is checked without overflow).  A negative
 * buffer_length (no .NET counterpart) is ArgumentOutOfRangeException
 * ("buffer").  flags: apmsock_socket_flags.  callback may be NULL (ASYNC-04).
 *
 * Ownership: the caller keeps buffer[offset, offset+size) alive and
 * unchanged until the operation has completed (the callback has started,
 * or End or apmsock_result_wait() has returned true); the implementation
 * only reads it.  `state` is not touched, only handed back.
 *
 * On APMSOCK_OK, *result_out is a new result owned by the caller, who
 * releases it with apmsock_result_release() once done with it.
 * Never blocks, whatever the socket's Blocking mode (CONN-12): on a blocking
 * socket (the default) a send that cannot go out now stays pending until it
 * has sent all `size` bytes (CONN-11); on a non-blocking socket a send that
 * can queue no byte now is SocketException WouldBlock, and a stream send
 * that can queue only part completes with that partial count. */
APMSOCK_API apmsock_kind_t apmsock_begin_send(apmsock_socket_t s, const uint8_t *buffer,
                                              int32_t buffer_length, int32_t offset,
                                              int32_t size, int32_t flags,
                                              apmsock_callback_t callback, void *state,
                                              apmsock_result_t *result_out,
                                              apmsock_error_t *err);

/* EndSend(asyncResult): the number of bytes sent, into *bytes_sent (may be
 * NULL).  Blocks until the operation completes.  The result stays the
 * caller's (release it afterwards).  Errors: END-01..END-05. */
APMSOCK_API apmsock_kind_t apmsock_end_send(apmsock_socket_t s, apmsock_result_t result,
                                            int32_t *bytes_sent, apmsock_error_t *err);

/* BeginSendTo(buffer, offset, size, flags, remoteEP, callback, state).
 * As apmsock_begin_send; remote_ep NULL is ArgumentNullException
 * ("remoteEP") (ARG-07); it is read during the call only. */
APMSOCK_API apmsock_kind_t apmsock_begin_send_to(apmsock_socket_t s, const uint8_t *buffer,
                                                 int32_t buffer_length, int32_t offset,
                                                 int32_t size, int32_t flags,
                                                 const struct sockaddr *remote_ep,
                                                 apmsock_callback_t callback, void *state,
                                                 apmsock_result_t *result_out,
                                                 apmsock_error_t *err);

/* EndSendTo(asyncResult).  As apmsock_end_send. */
APMSOCK_API apmsock_kind_t apmsock_end_send_to(apmsock_socket_t s, apmsock_result_t result,
                                               int32_t *bytes_sent, apmsock_error_t *err);

/* ------------------------------------------------------------------------ */
/* The async result (IAsyncResult and its WaitHandle).  Never block except
 * apmsock_result_wait.  A null or released handle is ArgumentNullException /
 * ArgumentException("asyncResult").                                        */

typedef struct apmsock_result_status {
  void *state;                    /* AsyncState: the state given to Begin */
  bool is_completed;              /* IsCompleted */
  bool completed_synchronously;   /* CompletedSynchronously (ASYNC-07: INFO) */
} apmsock_result_status_t;

APMSOCK_API apmsock_kind_t apmsock_result_status(apmsock_result_t result,
                                                 apmsock_result_status_t *out,
                                                 apmsock_error_t *err);

/* AsyncState alone; NULL for a null or released handle. */
APMSOCK_API void *apmsock_result_state(apmsock_result_t result);

/* AsyncWaitHandle.WaitOne(timeout_ms): *signaled is true once the operation
 * has completed, false when timeout_ms elapsed first.  timeout_ms -1 waits
 * without limit.  Blocks up to timeout_ms. */
APMSOCK_API apmsock_kind_t apmsock_result_wait(apmsock_result_t result, int32_t timeout_ms,
                                               bool *signaled, apmsock_error_t *err);

/* Gives the handle back.  Only a completed operation's result can be
 * released (InvalidOperationException otherwise: the implementation still
 * owes it a completion); the callback may release its own result.  After
 * this the handle answers ArgumentException("asyncResult"). */
APMSOCK_API apmsock_kind_t apmsock_result_release(apmsock_result_t result,
                                                  apmsock_error_t *err);

/* ------------------------------------------------------------------------ */
/* Network tracing (TRACE-01).                                               */

enum apmsock_trace_event {
  APMSOCK_TRACE_BEGIN = 1,        /* a Begin call returned (started or threw) */
  APMSOCK_TRACE_COMPLETE = 2      /* an operation completed */
};

typedef struct apmsock_trace_record {
  uint64_t socket;                /* the socket handle value */
  const char *operation;          /* "BeginSend", "BeginSendTo" */
  int event;                      /* apmsock_trace_event */
  int32_t size;                   /* BEGIN: size asked; COMPLETE: bytes sent */
  apmsock_kind_t kind;            /* outcome: APMSOCK_OK or the exception */
  int socket_error;               /* outcome's SocketError, 0 on success */
} apmsock_trace_record_t;

/* The sink gets each record synchronously, from whichever thread produced it;
 * the record lives for the call only. */
typedef void (*apmsock_trace_sink_t)(const apmsock_trace_record_t *record, void *ctx);

/* Switches tracing on or off.  It starts on when the environment variable
 * APMSOCK_TRACE is set, at the library's first use: "1" or "stderr" writes to
 * standard error, any other value is a file path opened for appending.
 * The default sink writes one line per record:
 *   apmsock-trace socket=<handle> op=<operation> event=<begin|complete>
 *   size=<n> outcome=<Success|ExceptionType[:SocketErrorName]>
 * Any thread, never blocks. */
APMSOCK_API void apmsock_trace_enable(bool on);
APMSOCK_API bool apmsock_trace_enabled(void);
/* Replaces the sink (NULL restores the default).  Any thread. */
APMSOCK_API void apmsock_trace_set_sink(apmsock_trace_sink_t sink, void *ctx);

/* ------------------------------------------------------------------------ */
/* Send permission (SEC-01).                                                 */

/* Asked before each send with its destination (the remoteEP of a
 * BeginSendTo, the connected peer of a BeginSend); returns true to allow.
 * A denied send is SecurityException from Begin; nothing is sent.  NULL (the
 * default) allows everything.  Process-wide; called on the thread calling
 * Begin, so it must not block. */
typedef bool (*apmsock_send_policy_t)(const struct sockaddr *destination, void *ctx);
APMSOCK_API void apmsock_set_send_policy(apmsock_send_policy_t policy, void *ctx);

/* ------------------------------------------------------------------------ */
/* Counters (CTX-01 and the benchmarks).                                     */

typedef struct apmsock_stats {
  uint64_t heap_allocations;      /* allocations the implementation made */
  uint64_t context_cache_hits;    /* sends that took the cached path for
                                     their (socket, method, callback) */
  uint64_t context_cache_misses;  /* sends that built a context first */
  uint64_t operations_started;
  uint64_t operations_completed;
} apmsock_stats_t;

/* A snapshot of process-wide counters since the library started.  Any
 * thread, never blocks; counters may move while it reads them. */
APMSOCK_API void apmsock_get_stats(apmsock_stats_t *out);

#ifdef __cplusplus
}
#endif
#endif /* APMSOCK_H */
