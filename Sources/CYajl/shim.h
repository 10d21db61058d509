#ifndef CRABCAN_CYAJL_SHIM_H
#define CRABCAN_CYAJL_SHIM_H
#include <yajl/yajl_parse.h>
#include <yajl/yajl_gen.h>

/* yajl_config and yajl_gen_config are variadic: Swift cannot call them directly. */
static inline int cyajl_allow_comments(yajl_handle h, int on) { return yajl_config(h, yajl_allow_comments, on); }
static inline int cyajl_gen_beautify(yajl_gen g, int on) { return yajl_gen_config(g, yajl_gen_beautify, on); }
static inline int cyajl_gen_indent(yajl_gen g, const char *indent) { return yajl_gen_config(g, yajl_gen_indent_string, indent); }
static inline int cyajl_gen_validate_utf8(yajl_gen g, int on) { return yajl_gen_config(g, yajl_gen_validate_utf8, on); }
#endif
