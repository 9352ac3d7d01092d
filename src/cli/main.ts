import { Builtins, Cli } from 'clipanion';
import { tspodVersion } from '../version.js';
import { TspodCommand } from './base.js';
import { describeUsageError, reportError } from './errors.js';
import { compileMachine, installFastCompile, machineKey, type MachineCache } from './fast-compile.js';
import { readMachineCache, writeMachineCache } from './machine-cache.js';
import { CompleteCommand, CompleteNoDescCommand } from './completion/complete.js';
import { CompletionCommand } from './completion/completion.js';
import { GenerateSystemdCommand } from './generate/systemd.js';
import { QuadletCommand } from './quadlet.js';
import { CreateCommand } from './container/create.js';
import { CpCommand } from './container/cp.js';
import { CommitCommand } from './container/commit.js';
import { TopCommand } from './container/top.js';
import { MountCommand } from './container/mount.js';
import { UnmountCommand } from './container/unmount.js';
import { ContainerPruneCommand } from './container/prune.js';
import { AttachCommand } from './container/attach.js';
import { PauseCommand, UnpauseCommand } from './container/pause.js';
import { DiffCommand } from './container/diff.js';
import { ExecCommand } from './container/exec.js';
import { ExportCommand } from './container/export.js';
import { HealthcheckRunCommand } from './container/healthcheck.js';
import { ContainerInspectCommand } from './container/inspect.js';
import {
  ContainerCleanupCommand,
  ContainerExistsCommand,
  KillCommand,
  RenameCommand,
  RestartCommand,
  RmCommand,
  StartCommand,
  StopCommand,
  WaitCommand,
} from './container/lifecycle-commands.js';
import { LogsCommand } from './container/logs.js';
import { PortCommand } from './container/port.js';
import { PsCommand } from './container/ps.js';
import { RunCommand } from './container/run.js';
import { HistoryCommand } from './image/history.js';
import { ImageExistsCommand } from './image/exists.js';
import { ImageInspectCommand } from './image/inspect.js';
import { ImagePruneCommand } from './image/prune.js';
import { ImagesCommand } from './image/images.js';
import { PullCommand } from './image/pull.js';
import { ImportCommand } from './image/import.js';
import { LoadCommand } from './image/load.js';
import { LoginCommand } from './image/login.js';
import { LogoutCommand } from './image/logout.js';
import { PushCommand } from './image/push.js';
import { SaveCommand } from './image/save.js';
import { RmiCommand } from './image/rmi.js';
import { TagCommand } from './image/tag.js';
import { UntagCommand } from './image/untag.js';
import { InfoCommand } from './system/info.js';
import { SystemMigrateCommand } from './system/migrate.js';
import { UnshareCommand } from './system/unshare.js';
import { NetworkConnectCommand } from './network/connect.js';
import { NetworkCreateCommand } from './network/create.js';
import { NetworkDisconnectCommand } from './network/disconnect.js';
import { NetworkExistsCommand } from './network/exists.js';
import { NetworkInspectCommand } from './network/inspect.js';
import { NetworkLsCommand } from './network/ls.js';
import { NetworkPruneCommand } from './network/prune.js';
import { NetworkRmCommand } from './network/rm.js';
import { VersionCommand } from './version.js';
import { VolumeCreateCommand } from './volume/create.js';
import { VolumeExistsCommand } from './volume/exists.js';
import { VolumeInspectCommand } from './volume/inspect.js';
import { VolumeLsCommand } from './volume/ls.js';
import { VolumePruneCommand } from './volume/prune.js';
import { VolumeRmCommand } from './volume/rm.js';
import { PodCreateCommand } from './pod/create.js';
import { PodExistsCommand, PodInspectCommand, PodPruneCommand } from './pod/inspect.js';
import { PodKillCommand, PodRestartCommand, PodRmCommand, PodStartCommand, PodStopCommand } from './pod/lifecycle.js';
import { PodPsCommand } from './pod/ps.js';
import { GenerateKubeCommand } from './generate/kube.js';
import { KubeDownCommand, KubePlayCommand } from './kube/play.js';

/** Every command class; command files stay thin and import their engine lazily. */
export const COMMANDS = [
  CompleteCommand,
  CompleteNoDescCommand,
  CompletionCommand,
  GenerateSystemdCommand,
  QuadletCommand,
  ContainerCleanupCommand,
  ContainerExistsCommand,
  ContainerInspectCommand,
  AttachCommand,
  PauseCommand,
  UnpauseCommand,
  CreateCommand,
  CpCommand,
  CommitCommand,
  TopCommand,
  MountCommand,
  UnmountCommand,
  ContainerPruneCommand,
  DiffCommand,
  ExecCommand,
  ExportCommand,
  HealthcheckRunCommand,
  HistoryCommand,
  ImageExistsCommand,
  ImageInspectCommand,
  ImagePruneCommand,
  ImagesCommand,
  InfoCommand,
  PullCommand,
  ImportCommand,
  LoadCommand,
  LoginCommand,
  LogoutCommand,
  PushCommand,
  SaveCommand,
  RmiCommand,
  TagCommand,
  UntagCommand,
  KillCommand,
  LogsCommand,
  PortCommand,
  RenameCommand,
  RestartCommand,
  PsCommand,
  RmCommand,
  RunCommand,
  StartCommand,
  StopCommand,
  WaitCommand,
  SystemMigrateCommand,
  UnshareCommand,
  VersionCommand,
  NetworkConnectCommand,
  NetworkCreateCommand,
  NetworkDisconnectCommand,
  NetworkExistsCommand,
  NetworkInspectCommand,
  NetworkLsCommand,
  NetworkPruneCommand,
  NetworkRmCommand,
  VolumeCreateCommand,
  VolumeExistsCommand,
  VolumeInspectCommand,
  VolumeLsCommand,
  VolumePruneCommand,
  VolumeRmCommand,
  PodCreateCommand,
  PodExistsCommand,
  PodInspectCommand,
  PodKillCommand,
  PodPruneCommand,
  PodPsCommand,
  PodRestartCommand,
  PodRmCommand,
  PodStartCommand,
  PodStopCommand,
  GenerateKubeCommand,
  KubeDownCommand,
  KubePlayCommand,
];

class HelpCommand extends Builtins.HelpCommand {
  static override paths = [['help'], ['-h'], ['--help']];
}

/** A CLI with every command, or only those that can match `argv` (see commandsFor). */
export function buildCli(commands: readonly (typeof COMMANDS)[number][] = COMMANDS, machines?: MachineCache): Cli {
  const cli = new Cli({ binaryLabel: 'tspod', binaryName: 'tspod', binaryVersion: tspodVersion(), enableColors: false });
  for (const command of commands) cli.register(command);
  cli.register(HelpCommand);
  installFastCompile(cli, machines);
  return cli;
}

const GLOBAL_OPTIONS_WITH_VALUE = new Set(['--log-level', '--root', '--runroot', '--storage-driver']);

/**
 * The commands whose path starts with the first word of the command line.
 * Clipanion compiles a parser for every registered command on each run, which
 * costs hundreds of milliseconds for all of them: register only the candidates.
 * With no word, or a word no command starts with, all of them (help, errors).
 */
export function commandsFor(argv: string[]): readonly (typeof COMMANDS)[number][] {
  const word = commandWord(argv);
  return word === undefined ? COMMANDS : COMMANDS.filter((c) => (c.paths ?? []).some((p) => p[0] === word));
}

/** The first word of the command line if some command starts with it. */
function commandWord(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (GLOBAL_OPTIONS_WITH_VALUE.has(a)) i++;
    else if (!a.startsWith('-')) return COMMANDS.some((c) => (c.paths ?? []).some((p) => p[0] === a)) ? a : undefined;
  }
  return undefined;
}

/** Build hook: the parser machine of every command set commandsFor can give, for readMachineCache. */
export function compileMachineCache(outDir: string): void {
  const words = [undefined, ...new Set(COMMANDS.flatMap((c) => (c.paths ?? []).map((p) => p[0])))];
  const entries = words.map((word) => {
    const builders = (buildCli(commandsFor(word === undefined ? [] : [word])) as unknown as { builder: { builders: Parameters<typeof machineKey>[0] } }).builder.builders;
    return { word, key: machineKey(builders), machine: compileMachine(builders).machine };
  });
  writeMachineCache(outDir, entries);
}

/**
 * Podman's flag parser takes a short option's value attached (`rm -t0`, `-t=0`);
 * clipanion does not, and names the token as an invalid option. Such a token is
 * split into option and value and the line parsed again; any other error stands.
 */
function processAllowingAttachedValues(cli: Cli, argv: string[], context: Partial<typeof Cli.defaultContext>): ReturnType<Cli['process']> {
  let line = argv;
  let firstError: unknown;
  for (let attempt = 0; attempt < 8; attempt++) {
    try {
      return cli.process(line, context);
    } catch (error) {
      firstError ??= error;
      const token = /^Invalid option name \("(-[A-Za-z][^"]+)"\)/.exec((error as Error)?.message ?? '')?.[1];
      const end = line.indexOf('--');
      const at = token === undefined ? -1 : line.indexOf(token);
      if (at < 0 || (end >= 0 && at > end) || !shortOptionTakesValue(cli, token![1])) break;
      line = [...line.slice(0, at), token!.slice(0, 2), token!.slice(2).replace(/^=/, ''), ...line.slice(at + 1)];
    }
  }
  throw firstError;
}

/** Whether `-letter` takes a value in a command of this CLI (clipanion writes those `-t,--time #0`). */
function shortOptionTakesValue(cli: Cli, letter: string): boolean {
  const flag = new RegExp(`(^|,)-${letter}(,|\\s).*#`);
  return cli.definitions().some((d) => d.options.some((o) => flag.test(o.definition)));
}

/** Parse and run one command line; returns the exit status (Podman's codes). */
export async function main(argv: string[]): Promise<number> {
  const cli = buildCli(commandsFor(argv), readMachineCache(commandWord(argv)));
  // Only what differs from clipanion's defaults: its stdio streams are made when first used (scripts/build.mjs).
  const context = { colorDepth: 1 };
  if (argv.length === 0) {
    process.stderr.write("Error: missing command 'tspod COMMAND'; run 'tspod --help' to list the commands\n");
    return 125;
  }
  let command;
  try {
    command = processAllowingAttachedValues(cli, argv, context);
  } catch (error) {
    const groups = new Set(COMMANDS.flatMap((c) => (c.paths ?? []).filter((p) => p.length > 1).map((p) => p[0])));
    process.stderr.write(`Error: ${describeUsageError(error, argv, groups)}\n`);
    return 125;
  }
  try {
    // Global options are checked before any command runs, whether it uses them or not.
    if (command instanceof TspodCommand) void command.globals;
    const status = await cli.run(command, context);
    return command instanceof TspodCommand && command.failedWith !== undefined ? command.failedWith : status;
  } catch (error) {
    return reportError(error);
  }
}
