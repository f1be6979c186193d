/* test-list.h: every test of the C suite, in one place.
 *
 * CF_TEST_LIST(XX) calls XX(FAMILY, CLAUSE, VARIANT, BODY, TRANSPORT, AF, METHOD)
 * once per test.  The runner generates from it the Check test named
 * test_<CLAUSE>_<VARIANT> (e.g. test_CONN_07_udp_v6_send_to), which calls
 * BODY with the variant, and registers it in the TCase named FAMILY.  The
 * CF_V* helpers expand one clause into its usual variants; `--list` prints
 * the expanded names.
 */
#ifndef CF_TEST_LIST_H
#define CF_TEST_LIST_H

#include <sys/socket.h>

#define CF_NA 0

/* Both methods over UDP and TCP, IPv4 and IPv6. */
#define CF_V8(XX, F, C, B)                                   \
  XX(F, C, udp_v4_send, B, CF_UDP, AF_INET, CF_SEND)         \
  XX(F, C, udp_v4_send_to, B, CF_UDP, AF_INET, CF_SEND_TO)   \
  XX(F, C, udp_v6_send, B, CF_UDP, AF_INET6, CF_SEND)        \
  XX(F, C, udp_v6_send_to, B, CF_UDP, AF_INET6, CF_SEND_TO)  \
  XX(F, C, tcp_v4_send, B, CF_TCP, AF_INET, CF_SEND)         \
  XX(F, C, tcp_v4_send_to, B, CF_TCP, AF_INET, CF_SEND_TO)   \
  XX(F, C, tcp_v6_send, B, CF_TCP, AF_INET6, CF_SEND)        \
  XX(F, C, tcp_v6_send_to, B, CF_TCP, AF_INET6, CF_SEND_TO)
/* Both methods on a connected stream, IPv4 and IPv6. */
#define CF_VTCP(XX, F, C, B)                                 \
  XX(F, C, tcp_v4_send, B, CF_TCP, AF_INET, CF_SEND)         \
  XX(F, C, tcp_v4_send_to, B, CF_TCP, AF_INET, CF_SEND_TO)   \
  XX(F, C, tcp_v6_send, B, CF_TCP, AF_INET6, CF_SEND)        \
  XX(F, C, tcp_v6_send_to, B, CF_TCP, AF_INET6, CF_SEND_TO)
/* Both methods on datagrams (send: connected first), IPv4 and IPv6. */
#define CF_VUDP(XX, F, C, B)                                 \
  XX(F, C, udp_v4_send, B, CF_UDP, AF_INET, CF_SEND)         \
  XX(F, C, udp_v4_send_to, B, CF_UDP, AF_INET, CF_SEND_TO)   \
  XX(F, C, udp_v6_send, B, CF_UDP, AF_INET6, CF_SEND)        \
  XX(F, C, udp_v6_send_to, B, CF_UDP, AF_INET6, CF_SEND_TO)
/* One method and transport, IPv4 and IPv6. */
#define CF_V46(XX, F, C, B, T, t, M, m)                      \
  XX(F, C, t##_v4_##m, B, T, AF_INET, M)                     \
  XX(F, C, t##_v6_##m, B, T, AF_INET6, M)

#define CF_TEST_LIST(XX)                                                            \
  /* ARG: argument exceptions */                                                    \
  CF_V8(XX, ARG, ARG_01, cf_arg_null_buffer)                                        \
  CF_V8(XX, ARG, ARG_02, cf_arg_offset_negative)                                    \
  CF_V8(XX, ARG, ARG_03, cf_arg_offset_past_end)                                    \
  CF_V8(XX, ARG, ARG_04, cf_arg_size_negative)                                      \
  CF_V8(XX, ARG, ARG_05, cf_arg_size_past_end)                                      \
  CF_V8(XX, ARG, ARG_06, cf_arg_boundaries)                                         \
  CF_V46(XX, ARG, ARG_07, cf_arg_remote_ep_null, CF_UDP, udp, CF_SEND_TO, send_to)  \
  CF_V46(XX, ARG, ARG_07, cf_arg_remote_ep_null, CF_TCP, tcp, CF_SEND_TO, send_to)  \
  CF_V8(XX, ARG, ARG_08, cf_arg_overflow)                                           \
  XX(ARG, ARG_09, udp_v4_info, cf_arg_several_info, CF_UDP, AF_INET, CF_SEND_TO)    \
  XX(ARG, ARG_09, tcp_v6_info, cf_arg_several_info, CF_TCP, AF_INET6, CF_SEND_TO)   \
  CF_V8(XX, ARG, ARG_10, cf_arg_no_side_effect)                                     \
  /* ERR: socket errors */                                                          \
  CF_V8(XX, ERR, ERR_01, cf_err_invalid_flags)                                      \
  CF_VTCP(XX, ERR, ERR_02, cf_err_shutdown)                                         \
  XX(ERR, ERR_02, tcp_v4_send_reset, cf_err_reset, CF_TCP, AF_INET, CF_SEND)        \
  XX(ERR, ERR_02, tcp_v4_send_to_reset, cf_err_reset, CF_TCP, AF_INET, CF_SEND_TO)  \
  XX(ERR, ERR_02, tcp_v6_send_reset, cf_err_reset, CF_TCP, AF_INET6, CF_SEND)       \
  XX(ERR, ERR_02, tcp_v6_send_to_reset, cf_err_reset, CF_TCP, AF_INET6, CF_SEND_TO) \
  XX(ERR, ERR_02, udp_v4_setup_failures, cf_err_setup_failures, CF_UDP, AF_INET, CF_SEND_TO) \
  XX(ERR, ERR_03, errno_table, cf_err_errno_table, CF_NA, AF_INET, CF_NA)           \
  XX(ERR, ERR_03, kind_names, cf_err_kind_names, CF_NA, AF_INET, CF_NA)             \
  XX(ERR, ERR_03, setup_calls, cf_err_setup_calls, CF_NA, AF_INET, CF_NA)           \
  XX(ERR, ERR_03, v4_too_many_sockets, cf_err_too_many_sockets, CF_NA, AF_INET, CF_NA) \
  CF_V8(XX, ERR, ERR_04, cf_err_disposed)                                           \
  XX(ERR, ERR_04, udp_v4_every_call, cf_err_disposed_every_call, CF_UDP, AF_INET, CF_SEND_TO) \
  XX(ERR, ERR_04, tcp_v6_every_call, cf_err_disposed_every_call, CF_TCP, AF_INET6, CF_SEND) \
  XX(ERR, ERR_04, zero_handle, cf_err_zero_handle, CF_NA, AF_INET, CF_NA)           \
  XX(ERR, ERR_04, udp_v4_reused_slot, cf_err_disposed_reused_slot, CF_UDP, AF_INET, CF_SEND_TO) \
  XX(ERR, ERR_04, forged_handles, cf_err_forged_handles, CF_NA, AF_INET, CF_NA)     \
  XX(ERR, ERR_05, udp_v4_send_to, cf_err_family_mismatch, CF_UDP, AF_INET, CF_SEND_TO) \
  XX(ERR, ERR_05, udp_v6_send_to_v4_endpoint_info, cf_err_v4_on_v6_info, CF_UDP, AF_INET6, CF_SEND_TO) \
  /* CONN: connection-oriented and connectionless */                                \
  CF_V46(XX, CONN, CONN_01, cf_conn_send_unconnected_stream, CF_TCP, tcp, CF_SEND, send) \
  CF_V46(XX, CONN, CONN_02, cf_conn_send_unconnected_stream, CF_TCP, tcp, CF_SEND_TO, send_to) \
  CF_V46(XX, CONN, CONN_03, cf_conn_after_connect, CF_TCP, tcp, CF_SEND, send_connect) \
  CF_V46(XX, CONN, CONN_03, cf_conn_after_begin_connect, CF_TCP, tcp, CF_SEND, send_begin_connect) \
  CF_V46(XX, CONN, CONN_03, cf_conn_after_accept, CF_TCP, tcp, CF_SEND, send_accept) \
  CF_V46(XX, CONN, CONN_03, cf_conn_after_begin_accept, CF_TCP, tcp, CF_SEND, send_begin_accept) \
  CF_V46(XX, CONN, CONN_03, cf_conn_after_pending_begin_accept, CF_TCP, tcp, CF_SEND, send_pending_begin_accept) \
  CF_V46(XX, CONN, CONN_03, cf_conn_after_nonblocking_connect, CF_TCP, tcp, CF_SEND, send_nonblocking_connect) \
  CF_V46(XX, CONN, CONN_03, cf_conn_two_pending_begin_accepts, CF_TCP, tcp, CF_SEND, send_two_pending_begin_accepts) \
  CF_V46(XX, CONN, CONN_04, cf_conn_send_to_connected_stream, CF_TCP, tcp, CF_SEND_TO, send_to_connect) \
  CF_V46(XX, CONN, CONN_04, cf_conn_send_to_accepted_stream, CF_TCP, tcp, CF_SEND_TO, send_to_accept) \
  CF_V46(XX, CONN, CONN_05, cf_conn_dgram_default_host, CF_UDP, udp, CF_SEND, send) \
  CF_V46(XX, CONN, CONN_05, cf_conn_dgram_default_host_nonblocking, CF_UDP, udp, CF_SEND, send_nonblocking) \
  CF_V46(XX, CONN, CONN_06, cf_conn_dgram_unconnected_send, CF_UDP, udp, CF_SEND, send) \
  CF_V46(XX, CONN, CONN_07, cf_conn_implicit_bind, CF_UDP, udp, CF_SEND_TO, send_to) \
  XX(CONN, CONN_07, udp_v4_send_to_descriptor_zero, cf_conn_descriptor_zero, CF_UDP, AF_INET, CF_SEND_TO) \
  XX(CONN, CONN_07, udp_v4_send_to_after_refused_listen, cf_conn_implicit_bind_after_refused_listen, CF_UDP, AF_INET, CF_SEND_TO) \
  CF_V46(XX, CONN, CONN_08, cf_conn_override_once, CF_UDP, udp, CF_SEND, send_to_connected) \
  CF_V46(XX, CONN, CONN_09, cf_conn_reconnect, CF_UDP, udp, CF_SEND, send)          \
  CF_V46(XX, CONN, CONN_10, cf_conn_several_hosts, CF_UDP, udp, CF_SEND_TO, send_to) \
  XX(CONN, CONN_10, udp_v6_dual_mode_padded_v4, cf_conn_dual_mode_padded, CF_UDP, AF_INET6, CF_SEND_TO) \
  CF_VTCP(XX, CONN, CONN_11, cf_conn_large_stream)                                  \
  CF_VTCP(XX, CONN, CONN_12, cf_conn_blocking_pending)                              \
  CF_V46(XX, CONN, CONN_12, cf_conn_nonblocking_would_block, CF_TCP, tcp, CF_SEND, send_nonblocking) \
  CF_V46(XX, CONN, CONN_12, cf_conn_nonblocking_would_block, CF_TCP, tcp, CF_SEND_TO, send_to_nonblocking) \
  CF_V46(XX, CONN, CONN_12, cf_conn_nonblocking_fill, CF_TCP, tcp, CF_SEND, send_nonblocking_fill) \
  CF_V46(XX, CONN, CONN_12, cf_conn_nonblocking_fill, CF_TCP, tcp, CF_SEND_TO, send_to_nonblocking_fill) \
  CF_VUDP(XX, CONN, CONN_13, cf_conn_no_listener)                                   \
  /* BCAST: broadcast, on lo only (127.255.255.255) */                              \
  XX(BCAST, BCAST_01, udp_v4_send_to, cf_bcast_without_option, CF_UDP, AF_INET, CF_SEND_TO) \
  XX(BCAST, BCAST_02, udp_v4_send_to, cf_bcast_with_option, CF_UDP, AF_INET, CF_SEND_TO) \
  XX(BCAST, BCAST_02, udp_v4_send, cf_bcast_with_option, CF_UDP, AF_INET, CF_SEND)  \
  /* SIZE: datagram sizes */                                                        \
  CF_V46(XX, SIZE, SIZE_01, cf_size_oversize, CF_UDP, udp, CF_SEND_TO, send_to)     \
  XX(SIZE, SIZE_01, udp_v6_send_to_v4_endpoint, cf_size_oversize_v4_mapped, CF_UDP, AF_INET6, CF_SEND_TO) \
  CF_V46(XX, SIZE, SIZE_02, cf_size_oversize, CF_UDP, udp, CF_SEND, send)           \
  CF_VUDP(XX, SIZE, SIZE_03, cf_size_largest)                                       \
  CF_VUDP(XX, SIZE, SIZE_04, cf_size_zero)                                          \
  /* FLAGS */                                                                       \
  XX(FLAGS, FLAGS_01, udp_v4_send_to, cf_flags_dont_route, CF_UDP, AF_INET, CF_SEND_TO) \
  XX(FLAGS, FLAGS_01, udp_v4_send, cf_flags_dont_route, CF_UDP, AF_INET, CF_SEND)   \
  XX(FLAGS, FLAGS_01, tcp_v4_send_onlink, cf_flags_dont_route, CF_TCP, AF_INET, CF_SEND) \
  XX(FLAGS, FLAGS_01, udp_v6_send_to_onlink, cf_flags_dont_route, CF_UDP, AF_INET6, CF_SEND_TO) \
  XX(FLAGS, FLAGS_01, tcp_v6_send_onlink, cf_flags_dont_route, CF_TCP, AF_INET6, CF_SEND) \
  XX(FLAGS, FLAGS_02, tcp_v4_send_info, cf_flags_out_of_band_info, CF_TCP, AF_INET, CF_SEND) \
  XX(FLAGS, FLAGS_02, tcp_v6_send_to_info, cf_flags_out_of_band_info, CF_TCP, AF_INET6, CF_SEND_TO) \
  /* ASYNC: result, callback, wait handle */                                        \
  CF_V8(XX, ASYNC, ASYNC_01, cf_async_state)                                        \
  CF_V8(XX, ASYNC, ASYNC_02, cf_async_callback_thread)                              \
  XX(ASYNC, ASYNC_02, udp_v4_send_to_burst, cf_async_callback_burst, CF_UDP, AF_INET, CF_SEND_TO) \
  XX(ASYNC, ASYNC_02, tcp_v6_send_burst, cf_async_callback_burst, CF_TCP, AF_INET6, CF_SEND) \
  XX(ASYNC, ASYNC_02, udp_v4_send_to_from_callback, cf_async_callback_begins, CF_UDP, AF_INET, CF_SEND_TO) \
  XX(ASYNC, ASYNC_02, tcp_v6_send_from_callback, cf_async_callback_begins, CF_TCP, AF_INET6, CF_SEND) \
  XX(ASYNC, ASYNC_02, udp_v4_send_to_spaced, cf_async_callback_spaced, CF_UDP, AF_INET, CF_SEND_TO) \
  CF_V8(XX, ASYNC, ASYNC_03, cf_async_end_in_callback)                              \
  CF_V8(XX, ASYNC, ASYNC_04, cf_async_no_callback)                                  \
  CF_VTCP(XX, ASYNC, ASYNC_05, cf_async_end_blocks)                                 \
  CF_VTCP(XX, ASYNC, ASYNC_06, cf_async_wait_handle)                                \
  XX(ASYNC, ASYNC_07, udp_v4_send_to_info, cf_async_completed_synchronously_info, CF_UDP, AF_INET, CF_SEND_TO) \
  XX(ASYNC, ASYNC_07, tcp_v4_send_info, cf_async_completed_synchronously_info, CF_TCP, AF_INET, CF_SEND) \
  CF_VTCP(XX, ASYNC, ASYNC_08, cf_async_many_pending)                               \
  /* END: EndSend / EndSendTo */                                                    \
  CF_V8(XX, END, END_01, cf_end_null)                                               \
  XX(END, END_01, udp_v4_send_result_calls, cf_end_null_everywhere, CF_UDP, AF_INET, CF_SEND) \
  XX(END, END_01, tcp_v6_send_to_result_calls, cf_end_null_everywhere, CF_TCP, AF_INET6, CF_SEND_TO) \
  CF_V8(XX, END, END_02, cf_end_foreign)                                            \
  XX(END, END_02, udp_v6_send_to_released_result_calls, cf_end_released_everywhere, CF_UDP, AF_INET6, CF_SEND_TO) \
  XX(END, END_02, tcp_v4_send_released_result_calls, cf_end_released_everywhere, CF_TCP, AF_INET, CF_SEND) \
  XX(END, END_02, udp_v4_send_to_reused_record, cf_end_released_reused, CF_UDP, AF_INET, CF_SEND_TO) \
  XX(END, END_02, tcp_v6_send_reused_record, cf_end_released_reused, CF_TCP, AF_INET6, CF_SEND) \
  CF_V8(XX, END, END_03, cf_end_twice)                                              \
  CF_V46(XX, END, END_03, cf_end_twice_failed, CF_UDP, udp, CF_SEND_TO, send_to_failed) \
  CF_V46(XX, END, END_04, cf_end_failed_datagram, CF_UDP, udp, CF_SEND_TO, send_to) \
  CF_VTCP(XX, END, END_04, cf_end_failed_stream)                                    \
  CF_VTCP(XX, END, END_05, cf_end_closed)                                           \
  /* CANCEL: thread exit and disposal */                                            \
  CF_VTCP(XX, CANCEL, CANCEL_01, cf_cancel_thread_exit)                             \
  XX(CANCEL, CANCEL_01, tcp_v4_send_after_restart, cf_cancel_thread_exit_after_restart, CF_TCP, AF_INET, CF_SEND) \
  CF_VTCP(XX, CANCEL, CANCEL_02, cf_cancel_completed_before_exit)                   \
  CF_VUDP(XX, CANCEL, CANCEL_02, cf_cancel_completed_before_exit)                   \
  CF_VTCP(XX, CANCEL, CANCEL_03, cf_cancel_other_threads)                           \
  CF_VTCP(XX, CANCEL, CANCEL_04, cf_cancel_close_pending)                           \
  XX(CANCEL, CANCEL_04, tcp_v4_send_library_cleanup, cf_cancel_cleanup_pending, CF_TCP, AF_INET, CF_SEND) \
  XX(CANCEL, CANCEL_04, udp_v4_close_reuses_records, cf_cancel_close_reuses_records, CF_UDP, AF_INET, CF_SEND) \
  XX(CANCEL, CANCEL_04, tcp_v4_accept_close_pending, cf_cancel_close_pending_accept, CF_TCP, AF_INET, CF_SEND) \
  /* FAULT: a send syscall fails under the implementation */                        \
  XX(FAULT, FAULT_04, tcp_v4_send_eintr, cf_fault_eintr, CF_TCP, AF_INET, CF_SEND)   \
  XX(FAULT, FAULT_04, udp_v4_send_to_eintr, cf_fault_eintr, CF_UDP, AF_INET, CF_SEND_TO) \
  XX(FAULT, FAULT_07, tcp_v4_send_short_then_reset, cf_fault_partial, CF_TCP, AF_INET, CF_SEND) \
  /* TRACE, CTX, SEC, EX */                                                         \
  CF_V46(XX, TRACE, TRACE_01, cf_trace_sink, CF_UDP, udp, CF_SEND_TO, send_to_sink) \
  CF_V46(XX, TRACE, TRACE_01, cf_trace_sink, CF_TCP, tcp, CF_SEND, send_sink)       \
  XX(TRACE, TRACE_01, env_line_format, cf_trace_env, CF_UDP, AF_INET, CF_SEND_TO)   \
  CF_V46(XX, CTX, CTX_01, cf_ctx_cached, CF_UDP, udp, CF_SEND_TO, send_to)          \
  XX(CTX, CTX_01, udp_v4_send, cf_ctx_cached, CF_UDP, AF_INET, CF_SEND)             \
  CF_VTCP(XX, CTX, CTX_01, cf_ctx_cached)                                           \
  XX(CTX, CTX_01, udp_v4_send_to_many_contexts, cf_ctx_many, CF_UDP, AF_INET, CF_SEND_TO) \
  XX(CTX, CTX_01, tcp_v6_send_many_contexts, cf_ctx_many, CF_TCP, AF_INET6, CF_SEND) \
  XX(CTX, CTX_01, udp_v4_send_to_thread_churn, cf_ctx_thread_churn, CF_UDP, AF_INET, CF_SEND_TO) \
  XX(CTX, CTX_01, udp_v4_send_to_long_run, cf_ctx_long_run, CF_UDP, AF_INET, CF_SEND_TO) \
  CF_V46(XX, SEC, SEC_01, cf_sec_denied, CF_UDP, udp, CF_SEND_TO, send_to)          \
  XX(SEC, SEC_01, udp_v4_send, cf_sec_denied, CF_UDP, AF_INET, CF_SEND)             \
  CF_V46(XX, SEC, SEC_01, cf_sec_denied, CF_TCP, tcp, CF_SEND, send)                \
  XX(SEC, SEC_01, tcp_v4_send_to, cf_sec_denied, CF_TCP, AF_INET, CF_SEND_TO)       \
  XX(SEC, SEC_01, tcp_v4_send_accepted, cf_sec_denied_accepted, CF_TCP, AF_INET, CF_SEND) \
  XX(SEC, SEC_01, tcp_v6_send_to_accepted, cf_sec_denied_accepted, CF_TCP, AF_INET6, CF_SEND_TO) \
  CF_V46(XX, EX, EX_01, cf_example, CF_TCP, tcp, CF_SEND_TO, send_to)

/* The TCase families, in run order, and each one's timeout in seconds
 * (scaled by CK_TIMEOUT_MULTIPLIER, which the sanitizer runs raise). */
#define CF_FAMILY_LIST(XX) \
  XX(ARG, 8)               \
  XX(ERR, 8)               \
  XX(CONN, 10)             \
  XX(BCAST, 8)             \
  XX(SIZE, 8)              \
  XX(FLAGS, 10)            \
  XX(ASYNC, 10)            \
  XX(END, 2)               \
  XX(CANCEL, 10)           \
  XX(TRACE, 10)            \
  XX(CTX, 10)              \
  XX(SEC, 8)               \
  XX(EX, 8)                \
  XX(FAULT, 8)

#endif /* CF_TEST_LIST_H */
