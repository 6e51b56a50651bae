/* SPDX-License-Identifier: ISC */
/*
 * sdharness.c: plays systemd's part for the end-to-end tests.
 *
 *	sdharness [-l NAME=PATH]... [-N LOGFILE] [-p PIDFILE]
 *	    [-w WATCHDOG_USEC] -- COMMAND [ARG...]
 *
 * Binds a listening Unix socket per -l (in order, passed as fds 3, 4,
 * ... with LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES), creates an
 * abstract NOTIFY_SOCKET ("@...") and appends every notify datagram to
 * LOGFILE (one message per line, newlines inside shown as '|'), writes
 * the child's pid to PIDFILE, and exits with the child's exit status.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SD_MAX_LISTEN	8

static int	sd_listen(const char *);

static int
sd_listen(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return (-1);
	memcpy(sun.sun_path, path, strlen(path));
	unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return (-1);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, 0660) == -1 || listen(fd, 128) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_un	 sun;
	char			*names[SD_MAX_LISTEN], *paths[SD_MAX_LISTEN];
	char			 fdnames[1024] = "", nsock[64], buf[4096];
	char			 env[64];
	const char		*logpath = NULL, *pidpath = NULL;
	const char		*wd = NULL;
	struct pollfd		 pfd;
	socklen_t		 len;
	FILE			*log = NULL, *pf;
	pid_t			 pid;
	ssize_t			 n;
	size_t			 nl = 0, i;
	int			 ch, fds[SD_MAX_LISTEN], nfd, status, done = 0;

	while ((ch = getopt(argc, argv, "l:N:p:w:")) != -1) {
		switch (ch) {
		case 'l':
			if (nl == SD_MAX_LISTEN ||
			    (paths[nl] = strchr(optarg, '=')) == NULL)
				return (2);
			*paths[nl]++ = '\0';
			names[nl++] = optarg;
			break;
		case 'N':
			logpath = optarg;
			break;
		case 'p':
			pidpath = optarg;
			break;
		case 'w':
			wd = optarg;
			break;
		default:
			return (2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		fprintf(stderr, "usage: sdharness [-l NAME=PATH]... "
		    "[-N LOG] [-p PIDFILE] [-w USEC] -- CMD...\n");
		return (2);
	}
	for (i = 0; i < nl; i++) {
		if ((fds[i] = sd_listen(paths[i])) == -1) {
			perror(paths[i]);
			return (2);
		}
		if (i > 0)
			strncat(fdnames, ":", sizeof(fdnames) -
			    strlen(fdnames) - 1);
		strncat(fdnames, names[i], sizeof(fdnames) -
		    strlen(fdnames) - 1);
	}
	/* An abstract datagram socket, named like systemd's ("@..."). */
	snprintf(nsock, sizeof(nsock), "@kzt-notify-%d", (int)getpid());
	if ((nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return (2);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, nsock + 1, strlen(nsock) - 1);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(nsock));
	if (bind(nfd, (struct sockaddr *)&sun, len) == -1) {
		perror("bind notify socket");
		return (2);
	}
	if (logpath != NULL && (log = fopen(logpath, "a")) == NULL) {
		perror(logpath);
		return (2);
	}

	if ((pid = fork()) == -1)
		return (2);
	if (pid == 0) {
		/* Listening sockets at 3, 4, ... in order. */
		for (i = 0; i < nl; i++) {
			int tmp = fcntl(fds[i], F_DUPFD, 100);

			close(fds[i]);
			fds[i] = tmp;
		}
		for (i = 0; i < nl; i++) {
			if (dup2(fds[i], 3 + (int)i) == -1)
				_exit(127);
			close(fds[i]);
		}
		if (nl > 0) {
			snprintf(env, sizeof(env), "%d", (int)getpid());
			setenv("LISTEN_PID", env, 1);
			snprintf(env, sizeof(env), "%zu", nl);
			setenv("LISTEN_FDS", env, 1);
			setenv("LISTEN_FDNAMES", fdnames, 1);
		}
		setenv("NOTIFY_SOCKET", nsock, 1);
		if (wd != NULL) {
			setenv("WATCHDOG_USEC", wd, 1);
			snprintf(env, sizeof(env), "%d", (int)getpid());
			setenv("WATCHDOG_PID", env, 1);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	for (i = 0; i < nl; i++)
		close(fds[i]);
	if (pidpath != NULL && (pf = fopen(pidpath, "w")) != NULL) {
		fprintf(pf, "%d\n", (int)pid);
		fclose(pf);
	}
	while (!done) {
		pfd.fd = nfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 100) > 0) {
			n = recv(nfd, buf, sizeof(buf) - 1, 0);
			if (n > 0 && log != NULL) {
				buf[n] = '\0';
				for (i = 0; i < (size_t)n; i++)
					if (buf[i] == '\n')
						buf[i] = '|';
				fprintf(log, "%s\n", buf);
				fflush(log);
			}
			continue;
		}
		if (waitpid(pid, &status, WNOHANG) == pid)
			done = 1;
	}
	/* Late messages sent just before exit. */
	while ((n = recv(nfd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
		buf[n] = '\0';
		for (i = 0; i < (size_t)n; i++)
			if (buf[i] == '\n')
				buf[i] = '|';
		if (log != NULL)
			fprintf(log, "%s\n", buf);
	}
	if (log != NULL)
		fclose(log);
	if (WIFEXITED(status))
		return (WEXITSTATUS(status));
	return (128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0));
}
