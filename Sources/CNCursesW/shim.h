/* SwiftPM drops pkg-config's -D flags: ask for the wide-character API here. */
#define NCURSES_WIDECHAR 1
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif
#include <locale.h>
#include <wchar.h>
#include <ncursesw/curses.h>

/* Macros and globals Swift cannot reach, as functions. */
static inline attr_t cncurses_attr_bold(void) { return A_BOLD; }
static inline attr_t cncurses_attr_reverse(void) { return A_REVERSE; }
static inline attr_t cncurses_attr_dim(void) { return A_DIM; }
static inline attr_t cncurses_attr_underline(void) { return A_UNDERLINE; }
static inline attr_t cncurses_color_pair(int pair) { return COLOR_PAIR(pair); }
static inline int cncurses_key_f(int n) { return KEY_F(n); }
static inline int cncurses_lines(void) { return LINES; }
static inline int cncurses_cols(void) { return COLS; }
static inline WINDOW *cncurses_stdscr(void) { return stdscr; }
static inline int cncurses_attrset(attr_t attributes) { return attrset(attributes); }
