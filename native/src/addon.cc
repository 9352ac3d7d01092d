// tspod's node-addon-api addon: only thread-safe syscalls Node lacks.
// Each function throws a JS Error carrying `code` (the errno name) and `errno`
// so TypeScript can tell EWOULDBLOCK from a real failure.
#include <napi.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <fcntl.h>
#include <malloc.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>
#include <uv.h>

extern char **environ;

namespace {

const char *ErrnoName(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case EACCES: return "EACCES";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case ERANGE: return "ERANGE";
    case ENOSYS: return "ENOSYS";
    case ENOTSUP: return "ENOTSUP";
    case ENODATA: return "ENODATA";
    case ENOLCK: return "ENOLCK";
    case EDEADLK: return "EDEADLK";
    default: return "EUNKNOWN";
  }
}

Napi::Error SysError(Napi::Env env, const char *call, int err, const std::string &subject = "") {
  std::string msg = std::string(call) + (subject.empty() ? "" : " " + subject) + ": " + strerror(err);
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, ErrnoName(err)));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, call));
  return e;
}

// flockSync(fd, op): LOCK_SH=1, LOCK_EX=2, LOCK_NB=4, LOCK_UN=8.
// Returns false (instead of throwing) when LOCK_NB was asked and the lock is held.
Napi::Value FlockSync(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int op = info[1].As<Napi::Number>().Int32Value();
  int rc;
  do { rc = flock(fd, op); } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    if (errno == EWOULDBLOCK && (op & LOCK_NB)) return Napi::Boolean::New(env, false);
    SysError(env, "flock", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Boolean::New(env, true);
}

// A blocking flock off the main thread, so a waiting process still handles signals.
class FlockWorker : public Napi::AsyncWorker {
 public:
  FlockWorker(Napi::Env env, int fd, int op)
      : Napi::AsyncWorker(env), fd_(fd), op_(op), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    int rc;
    do { rc = flock(fd_, op_); } while (rc < 0 && errno == EINTR);
    err_ = rc < 0 ? errno : 0;
  }
  void OnOK() override {
    if (err_) deferred_.Reject(SysError(Env(), "flock", err_).Value());
    else deferred_.Resolve(Env().Undefined());
  }

 private:
  int fd_, op_, err_ = 0;
  Napi::Promise::Deferred deferred_;
};

Napi::Value Flock(const Napi::CallbackInfo &info) {
  auto *worker = new FlockWorker(info.Env(), info[0].As<Napi::Number>().Int32Value(),
                                 info[1].As<Napi::Number>().Int32Value());
  Napi::Promise p = worker->Promise();
  worker->Queue();
  return p;
}

// Layer unpack off the main thread: one thread-pool job applies a batch of entries in
// order, each in as few syscalls as it takes (create O_EXCL|O_NOFOLLOW in a directory
// the caller has checked, write, owner, mode, times on the open fd, close). Batches cut
// the cost of handing work between threads, which per entry was larger than the work.
struct UnpackOp {
  int kind;  // 0 regular file from chunks, 1 symlink to target, 2 directory (an existing one is kept)
  std::string path, target;
  std::vector<struct iovec> iov;
  uint32_t uid, gid;
  mode_t mode;
  struct timespec times[2];
};

class UnpackBatchWorker : public Napi::AsyncWorker {
 public:
  UnpackBatchWorker(Napi::Env env, Napi::Array ops)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {
    opsRef_ = Napi::Persistent(ops.As<Napi::Object>());  // keeps the chunks alive
    for (uint32_t i = 0; i < ops.Length(); i++) {
      Napi::Array o = ops.Get(i).As<Napi::Array>();
      UnpackOp op;
      op.kind = o.Get(0u).As<Napi::Number>().Int32Value();
      op.path = o.Get(1u).As<Napi::String>().Utf8Value();
      if (op.kind == 1) op.target = o.Get(2u).As<Napi::String>().Utf8Value();
      if (op.kind == 0) {
        Napi::Array chunks = o.Get(2u).As<Napi::Array>();
        for (uint32_t c = 0; c < chunks.Length(); c++) {
          Napi::Buffer<uint8_t> b = chunks.Get(c).As<Napi::Buffer<uint8_t>>();
          op.iov.push_back({b.Data(), b.Length()});
        }
      }
      op.uid = o.Get(3u).As<Napi::Number>().Uint32Value();
      op.gid = o.Get(4u).As<Napi::Number>().Uint32Value();
      op.mode = static_cast<mode_t>(o.Get(5u).As<Napi::Number>().Uint32Value());
      double mtime = o.Get(6u).As<Napi::Number>().DoubleValue();
      double sec = std::floor(mtime);
      long nsec = static_cast<long>((mtime - sec) * 1e9);
      op.times[0].tv_sec = op.times[1].tv_sec = static_cast<time_t>(sec);
      // Microseconds, as Node's (libuv's) utimes gives the entries it still sets itself.
      op.times[0].tv_nsec = op.times[1].tv_nsec = nsec - nsec % 1000;
      ops_.push_back(std::move(op));
    }
  }
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    for (size_t i = 0; i < ops_.size(); i++) {
      UnpackOp &op = ops_[i];
      bool ok = op.kind == 0 ? File(op) : op.kind == 1 ? Symlink(op) : Directory(op);
      if (!ok) {
        failed_ = static_cast<int64_t>(i);
        return;
      }
    }
  }
  void OnOK() override {
    if (failed_ < 0) {
      deferred_.Resolve(Env().Undefined());
      return;
    }
    Napi::Error e = SysError(Env(), call_, err_, ops_[static_cast<size_t>(failed_)].path);
    e.Set("index", Napi::Number::New(Env(), static_cast<double>(failed_)));
    deferred_.Reject(e.Value());
  }

 private:
  bool Fail(const char *call) {
    call_ = call;
    err_ = errno;
    return false;
  }
  bool File(UnpackOp &op) {
    int fd = open(op.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return Fail("open");
    bool ok = true;
    for (size_t i = 0; ok && i < op.iov.size(); i++) {
      const uint8_t *p = static_cast<const uint8_t *>(op.iov[i].iov_base);
      size_t left = op.iov[i].iov_len;
      while (ok && left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) ok = Fail("write");
        else p += n, left -= static_cast<size_t>(n);
      }
    }
    // The owner first: fchown clears setuid/setgid, fchmod puts them back.
    if (ok && fchown(fd, op.uid, op.gid) < 0) ok = Fail("fchown");
    if (ok && fchmod(fd, op.mode & 07777) < 0) ok = Fail("fchmod");
    if (ok && futimens(fd, op.times) < 0) ok = Fail("futimens");
    if (close(fd) < 0 && ok) ok = Fail("close");
    return ok;
  }
  bool Symlink(UnpackOp &op) {
    if (symlink(op.target.c_str(), op.path.c_str()) < 0) return Fail("symlink");
    if (fchownat(AT_FDCWD, op.path.c_str(), op.uid, op.gid, AT_SYMLINK_NOFOLLOW) < 0) return Fail("lchown");
    if (utimensat(AT_FDCWD, op.path.c_str(), op.times, AT_SYMLINK_NOFOLLOW) < 0) return Fail("utimensat");
    return true;
  }
  bool Directory(UnpackOp &op) {
    if (mkdir(op.path.c_str(), 0700) < 0) {
      int err = errno;
      struct stat st;
      if (!(err == EEXIST && lstat(op.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))) {
        errno = err;
        return Fail("mkdir");
      }
    }
    if (fchownat(AT_FDCWD, op.path.c_str(), op.uid, op.gid, AT_SYMLINK_NOFOLLOW) < 0) return Fail("lchown");
    if (chmod(op.path.c_str(), op.mode & 07777) < 0) return Fail("chmod");
    return true;
  }

  std::vector<UnpackOp> ops_;
  Napi::ObjectReference opsRef_;
  const char *call_ = "";
  int err_ = 0;
  int64_t failed_ = -1;
  Napi::Promise::Deferred deferred_;
};

// unpackBatch(ops: Array<[kind, path, target|chunks|null, uid, gid, mode, mtimeSeconds]>) -> Promise<void>;
// rejects with the first failure (code, syscall, index of the op); later ops are not run.
Napi::Value UnpackBatch(const Napi::CallbackInfo &info) {
  auto *w = new UnpackBatchWorker(info.Env(), info[0].As<Napi::Array>());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// mount(source, target, fstype, flags, data)
Napi::Value Mount(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string source = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  std::string target = info[1].As<Napi::String>().Utf8Value();
  std::string fstype = info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "";
  unsigned long flags = static_cast<unsigned long>(info[3].As<Napi::Number>().Int64Value());
  std::string data = info[4].IsString() ? info[4].As<Napi::String>().Utf8Value() : "";
  if (mount(source.empty() ? nullptr : source.c_str(), target.c_str(), fstype.empty() ? nullptr : fstype.c_str(),
            flags, data.empty() ? nullptr : data.c_str()) < 0) {
    SysError(env, "mount", errno, target).ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

// umount(target, flags)
Napi::Value Umount(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string target = info[0].As<Napi::String>().Utf8Value();
  int flags = info.Length() > 1 ? info[1].As<Napi::Number>().Int32Value() : 0;
  if (umount2(target.c_str(), flags) < 0) SysError(env, "umount", errno, target).ThrowAsJavaScriptException();
  return env.Undefined();
}

// mknodChar(path, mode, major, minor): overlay whiteouts are 0/0 character devices.
Napi::Value MknodChar(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  mode_t mode = static_cast<mode_t>(info[1].As<Napi::Number>().Uint32Value());
  unsigned maj = info[2].As<Napi::Number>().Uint32Value();
  unsigned min = info[3].As<Napi::Number>().Uint32Value();
  if (mknod(path.c_str(), S_IFCHR | (mode & 07777), makedev(maj, min)) < 0)
    SysError(env, "mknod", errno, path).ThrowAsJavaScriptException();
  return env.Undefined();
}

// lsetxattr(path, name, value: Buffer)
Napi::Value Lsetxattr(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  Napi::Buffer<uint8_t> value = info[2].As<Napi::Buffer<uint8_t>>();
  if (lsetxattr(path.c_str(), name.c_str(), value.Data(), value.Length(), 0) < 0)
    SysError(env, "lsetxattr", errno, path).ThrowAsJavaScriptException();
  return env.Undefined();
}

// lgetxattr(path, name) -> Buffer | null when the attribute is absent
Napi::Value Lgetxattr(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  for (;;) {
    ssize_t size = lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (size < 0) {
      if (errno == ENODATA) return env.Null();
      SysError(env, "lgetxattr", errno, path).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    std::vector<uint8_t> buf(static_cast<size_t>(size));
    ssize_t got = lgetxattr(path.c_str(), name.c_str(), buf.data(), buf.size());
    if (got < 0 && errno == ERANGE) continue;  // grew in between: ask again
    if (got < 0) {
      if (errno == ENODATA) return env.Null();
      SysError(env, "lgetxattr", errno, path).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return Napi::Buffer<uint8_t>::Copy(env, buf.data(), static_cast<size_t>(got));
  }
}

// llistxattr(path) -> string[]
Napi::Value Llistxattr(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  for (;;) {
    ssize_t size = llistxattr(path.c_str(), nullptr, 0);
    if (size < 0) {
      if (errno == ENOTSUP) return Napi::Array::New(env);
      SysError(env, "llistxattr", errno, path).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    std::vector<char> buf(static_cast<size_t>(size) + 1);
    ssize_t got = llistxattr(path.c_str(), buf.data(), buf.size());
    if (got < 0 && errno == ERANGE) continue;
    if (got < 0) {
      SysError(env, "llistxattr", errno, path).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Array names = Napi::Array::New(env);
    uint32_t n = 0;
    for (ssize_t off = 0; off < got;) {
      std::string name(buf.data() + off);
      off += static_cast<ssize_t>(name.size()) + 1;
      if (!name.empty()) names.Set(n++, Napi::String::New(env, name));
    }
    return names;
  }
}

// pipe() -> [readFd, writeFd], both close-on-exec.
Napi::Value MakePipe(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) {
    SysError(env, "pipe2", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, fds[0]));
  out.Set(1u, Napi::Number::New(env, fds[1]));
  return out;
}

// spawnProcess(file, argv, fds, setsid) -> pid. The child gets fds[i] as its fd i
// (-1: /dev/null), default signal dispositions and an empty signal mask, as libuv
// gives. posix_spawn clones with CLONE_VFORK: child_process.spawn's fork() copies
// Node's page tables, 10-16 ms of every `tspod run`.
Napi::Value SpawnProcess(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string file = info[0].As<Napi::String>().Utf8Value();
  Napi::Array args = info[1].As<Napi::Array>();
  Napi::Array fds = info[2].As<Napi::Array>();
  bool newSession = info[3].ToBoolean();

  std::vector<std::string> argStore;
  for (uint32_t i = 0; i < args.Length(); i++) argStore.push_back(args.Get(i).As<Napi::String>().Utf8Value());
  std::vector<char *> argv;
  for (auto &a : argStore) argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);

  // Every source is first copied above the highest target, so no dup2 overwrites
  // a source still to be used, and every target ends up without O_CLOEXEC.
  const uint32_t count = fds.Length();
  std::vector<int> sources;
  int devnull = -1, failure = 0;
  for (uint32_t i = 0; i < count && !failure; i++) {
    int fd = fds.Get(i).As<Napi::Number>().Int32Value();
    if (fd < 0) {
      if (devnull < 0) devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
      fd = devnull;
    }
    int copy = fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, static_cast<int>(count));
    if (copy < 0) failure = errno;
    else sources.push_back(copy);
  }
  pid_t pid = -1;
  if (!failure) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    for (uint32_t i = 0; i < count; i++) posix_spawn_file_actions_adddup2(&actions, sources[i], static_cast<int>(i));
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);
    short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
    if (newSession) flags |= POSIX_SPAWN_SETSID;
    posix_spawnattr_setflags(&attr, flags);
    failure = posix_spawn(&pid, file.c_str(), &actions, &attr, argv.data(), environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
  }
  for (int fd : sources) close(fd);
  if (devnull >= 0) close(devnull);
  if (failure) {
    SysError(env, "posix_spawn", failure, file).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, pid);
}

// reapChild(pid) -> null while it runs, else { code, signal } (signal 0 when it exited).
Napi::Value ReapChild(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  int status = 0;
  pid_t got;
  do { got = waitpid(pid, &status, WNOHANG); } while (got < 0 && errno == EINTR);
  if (got < 0) {
    SysError(env, "waitpid", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (got == 0) return env.Null();
  Napi::Object out = Napi::Object::New(env);
  out.Set("code", Napi::Number::New(env, WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  out.Set("signal", Napi::Number::New(env, WIFSIGNALED(status) ? WTERMSIG(status) : 0));
  return out;
}

// watchReadable(fd, onData(chunk: Buffer | null)) -> { close(), unref() }: reads a
// pipe on Node's own loop (a uv_poll), chunk by chunk, null at its end. What
// net.Socket gives, without loading net (~9 ms of every `run`).
//
// Two owners share the struct: the poll handle (`loop`, from uv_poll_init until
// its uv_close callback, which also drops the callback and async context) and the
// JS close()/unref() functions (until they are garbage collected), which may still
// be called after the watch has ended.
struct FdWatch {
  uv_poll_t poll;
  int fd;
  bool closed;
  napi_env env;
  Napi::FunctionReference onData;
  Napi::AsyncContext *async;
  std::shared_ptr<FdWatch> loop;
};

void OnWatchClosed(uv_handle_t *h) {
  FdWatch *done = static_cast<FdWatch *>(h->data);
  done->onData.Reset();
  delete done->async;
  done->async = nullptr;
  // Last: may free `done` (when the JS functions are already gone).
  std::shared_ptr<FdWatch> last = std::move(done->loop);
}

void CloseWatch(FdWatch *w) {
  if (w->closed) return;
  w->closed = true;
  uv_poll_stop(&w->poll);
  close(w->fd);
  uv_close(reinterpret_cast<uv_handle_t *>(&w->poll), OnWatchClosed);
}

void OnReadable(uv_poll_t *handle, int status, int) {
  FdWatch *w = static_cast<FdWatch *>(handle->data);
  Napi::Env env(w->env);
  Napi::HandleScope scope(env);
  char buf[65536];
  while (!w->closed) {
    ssize_t n = status < 0 ? 0 : read(w->fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n > 0) {
      w->onData.MakeCallback(env.Global(), {Napi::Buffer<char>::Copy(env, buf, static_cast<size_t>(n))}, *w->async);
      continue;
    }
    // End of the pipe, or an error on it: either way nothing more comes.
    CloseWatch(w);
    w->onData.MakeCallback(env.Global(), {env.Null()}, *w->async);
    return;
  }
}

Napi::Value WatchReadable(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  uv_loop_t *loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    Napi::Error::New(env, "watchReadable: no event loop").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    SysError(env, "fcntl", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto w = std::make_shared<FdWatch>();
  w->fd = fd;
  w->closed = false;
  w->env = env;
  w->poll.data = w.get();
  int rc = uv_poll_init(loop, &w->poll, fd);
  if (rc != 0) {
    Napi::Error::New(env, std::string("watchReadable: ") + uv_strerror(rc)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // From here on the handle is in the loop: its memory lives until uv_close's callback.
  w->loop = w;
  w->onData = Napi::Persistent(info[1].As<Napi::Function>());
  w->async = new Napi::AsyncContext(env, "tspod:watchReadable");
  rc = uv_poll_start(&w->poll, UV_READABLE | UV_DISCONNECT, OnReadable);
  if (rc != 0) {
    // The fd stays the caller's, as when uv_poll_init fails.
    w->closed = true;
    uv_close(reinterpret_cast<uv_handle_t *>(&w->poll), OnWatchClosed);
    Napi::Error::New(env, std::string("watchReadable: ") + uv_strerror(rc)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("close", Napi::Function::New(env, [w](const Napi::CallbackInfo &) { CloseWatch(w.get()); }));
  handle.Set("unref", Napi::Function::New(env, [w](const Napi::CallbackInfo &) {
    if (!w->closed) uv_unref(reinterpret_cast<uv_handle_t *>(&w->poll));
  }));
  return handle;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  /* At most two malloc arenas: by default glibc gives threads that contend their own
   * (up to 8 per core), and each keeps what was freed in it. A pull's decoding thread
   * allocates the buffers the main thread frees (bench/pull.ts, Debian minbase: peak
   * RSS 140-146 -> 136-137 MB, no slower). Set when the addon loads, before the
   * unpacker's and decoder's threads start. */
  mallopt(M_ARENA_MAX, 2);
  exports.Set("flockSync", Napi::Function::New(env, FlockSync));
  exports.Set("pipe", Napi::Function::New(env, MakePipe));
  exports.Set("spawnProcess", Napi::Function::New(env, SpawnProcess));
  exports.Set("reapChild", Napi::Function::New(env, ReapChild));
  exports.Set("watchReadable", Napi::Function::New(env, WatchReadable));
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("mount", Napi::Function::New(env, Mount));
  exports.Set("umount", Napi::Function::New(env, Umount));
  exports.Set("mknodChar", Napi::Function::New(env, MknodChar));
  exports.Set("lsetxattr", Napi::Function::New(env, Lsetxattr));
  exports.Set("lgetxattr", Napi::Function::New(env, Lgetxattr));
  exports.Set("llistxattr", Napi::Function::New(env, Llistxattr));
  exports.Set("unpackBatch", Napi::Function::New(env, UnpackBatch));
  return exports;
}

}  // namespace

NODE_API_MODULE(tspod_native, Init)
