import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class TopCommand extends TspodCommand {
  static override paths = [['top'], ['container', 'top']];
  static override usage = Command.Usage({
    category: 'Containers',
    description: 'Display the running processes of a container',
    details:
      'Format descriptors: args, capamb, capbnd, capeff, capinh, capprm, comm, etime, group, groups, hgroup, hgroups, hpid, huser, label, nice, pcpu, pgid, pid, ppid, rgroup, rss, ruser, seccomp, state, stime, time, tty, user, vsz (and the AIX codes %C %G %P %U %a %c %g %n %p %r %t %u %x %y %z). Other arguments are ps(1) options, run by ps inside the container. PIDs are as the container sees them.',
    examples: [
      ['The default table', 'tspod top web'],
      ['Chosen columns', 'tspod top web pid hpid user args'],
      ['ps inside the container', 'tspod top web -ef'],
    ],
  });

  // Everything after `top` is taken as is: ps(1) options such as -ef must not be parsed as ours.
  // -l/--latest (Act on the latest container tspod knows of) is read from the front.
  args = Option.Proxy({ name: 'CONTAINER [FORMAT-DESCRIPTORS|ARGS...]' });

  async execute(): Promise<number> {
    const { TspodError } = await import('../../util/errors.js');
    const args = [...this.args];
    if (args[0] === '--help' || args[0] === '-h') {
      this.out(this.cli.usage(TopCommand, { detailed: true }));
      return 0;
    }
    const latest = args[0] === '-l' || args[0] === '--latest';
    if (latest) args.shift();
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { openStore, reconcile } = await import('../../runtime/lifecycle.js');
    const store = openStore(this.globals);
    let target: string | undefined;
    if (latest) {
      target = store.list()[0]?.id;
      if (!target) throw new TspodError('no containers to act on with --latest');
    } else {
      target = args.shift();
      if (!target) throw new TspodError('you must provide the name or ID of a running container');
    }
    const found = store.find(target);
    if (!found) throw new TspodError(`unable to look up requested container: no container with name or ID "${target}" found: no such container`);
    const rec = await reconcile(store, found);
    if (rec.state.status !== 'running') throw new TspodError(`top can only be used on running containers: ${rec.id} is ${rec.state.status}: container state improper`);
    const { parseDescriptors, topTable } = await import('../../runtime/top.js');
    const descriptors = parseDescriptors(args);
    if (!descriptors) {
      // ps(1) options: Podman runs ps inside the container.
      const { execInContainer } = await import('../../runtime/exec.js');
      return execInContainer(this.globals, rec.id, { command: ['ps', ...args], env: [], detach: false, interactive: false, privileged: false });
    }
    const { tabwrite } = await import('../../format/tabwriter.js');
    this.out(tabwrite(topTable(rec.state.pid, descriptors)));
    return 0;
  }
}
