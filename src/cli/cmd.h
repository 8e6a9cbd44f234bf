/* Subcommands of the gradsweep CLI besides run/list (each in its own file under src/cli).
 * argv[0] is the subcommand name; each returns the process exit code (0 ok, 2 usage or bad
 * input, 1 other errors) and prints its own usage with -h/--help. */
#ifndef GRADSWEEP_CLI_CMD_H
#define GRADSWEEP_CLI_CMD_H

int gs_cmd_theory(int argc, char **argv); /* cmd_theory.c: gradsweep theory ... */
int gs_cmd_info(int argc, char **argv);   /* cmd_info.c: gradsweep info OUT.h5 */
int gs_cmd_status(int argc, char **argv); /* cmd_info.c: gradsweep status OUT.h5 [SPEC] */
int gs_cmd_report(int argc, char **argv); /* cmd_report.c: gradsweep report OUT.h5 [-o DIR] */

#endif
