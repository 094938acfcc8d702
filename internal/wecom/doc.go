// Package wecom is a client for the parts of WeCom's server API that keep
// customer contacts: gettoken and the externalcontact endpoints.
//
// Access tokens are cached per (corp ID, secret), refreshed before they
// expire, fetched once at a time per key (singleflight), and dropped and
// fetched again once when WeCom says a token is invalid or expired. Calls are
// rate limited per corp on the client side, retried with jittered backoff on
// transient failures (-1, 45033, 5xx, timeouts), and a 45009 rate-limit block
// stops all calls of that corp until it ends. Errors are typed by errcode;
// responses are decoded leniently (numbers as strings, nulls).
package wecom
