# KMSAUTHZ_CHECK_CFLAG(FLAG, [ACTION-IF-OK], [ACTION-IF-NOT])
# Probe FLAG with -Werror so that unknown flags drop out quietly
# (the idea of OpenSSH's OSSH_CHECK_CFLAG_COMPILE).
AC_DEFUN([KMSAUTHZ_CHECK_CFLAG], [
	AC_MSG_CHECKING([whether $CC accepts $1])
	kmsauthz_saved_CFLAGS="$CFLAGS"
	CFLAGS="$CFLAGS -Werror $1"
	AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[]], [[return 0;]])],
	    [AC_MSG_RESULT([yes]); $2],
	    [AC_MSG_RESULT([no]); $3])
	CFLAGS="$kmsauthz_saved_CFLAGS"
])
