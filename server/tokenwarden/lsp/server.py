"""``tokenwarden serve``: the state of one editor connection, and the stdio entry point.

``TokenwardenServer`` holds the options, the ``SessionManager``, the store watcher
and the sign-in UI of one editor connection, and renders the manager's events
(status notifications, sign-in progress, expiry questions). The handlers that
answer the editor are in ``handlers``; the JSON-RPC plumbing is in ``jsonrpc``.
Nothing here imports the OAuth/HTTP stack: ``initialize`` is answered before it is
loaded, and the session manager loads it on the first network call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO

from lsprotocol import types
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from tokenwarden import __version__
from tokenwarden.errors import ConfigError, TokenwardenError
from tokenwarden.lsp import logbridge, protocol, transport
from tokenwarden.lsp.client_requests import ClientRequests
from tokenwarden.lsp.jsonrpc import TokenwardenProtocol, wire_converter
from tokenwarden.lsp.options import OptionProblem, ServerOptions, merged, parse_options
from tokenwarden.lsp.signin_ui import ExpiryPrompter, SignInPresenter
from tokenwarden.paths import locations
from tokenwarden.status import SessionState, Status

if TYPE_CHECKING:  # loaded after the initialize answer, off the start-up path
    from tokenwarden.config import Config
    from tokenwarden.handoff import HandoffListener
    from tokenwarden.session import Event, SessionManager
    from tokenwarden.storewatch import StoreWatcher

log = logging.getLogger(__name__)

CLOSE_TIMEOUT_SECONDS = 2.0
MAX_PROBLEMS_SHOWN = 3


class TokenwardenServer(LanguageServer):
    """One editor connection: its options, session manager, store watcher and UI."""

    protocol: TokenwardenProtocol

    def __init__(self) -> None:
        super().__init__(
            "tokenwarden", __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.None_,
            protocol_cls=TokenwardenProtocol, converter_factory=wire_converter,
        )
        self.client = ClientRequests(self)
        self.options = ServerOptions()
        self.initialization_options: Any = None
        self.manager: SessionManager | None = None
        self.setup_requested = False
        self.watcher: StoreWatcher | None = None
        self.handoff: HandoffListener | None = None
        self.sign_in_ui = SignInPresenter(self.client, self.spawn, self.now)
        self.expiry_ui = ExpiryPrompter(self.client, self.spawn, self.now, self.sign_in_for_user)
        self.shutdown_requested = False
        self.pending_problems: list[OptionProblem] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self._log_handler: logging.Handler | None = None
        self._stopped = False

    def report_server_error(self, error: Exception, source: Any) -> None:
        """A failing notification handler is a bug to log, not a pop-up for the user."""
        log.error("internal error (%s): %s", getattr(source, "__name__", source), error)

    # ---------------------------------------------------------------- state

    @property
    def sessions(self) -> SessionManager:
        """The session manager; a -32002 error before ``initialize``."""
        if self.manager is None and self.setup_requested:
            self.setup(self.initialization_options)  # needed before the scheduled setup ran
        if self.manager is None:
            raise protocol.temporarily_unavailable("the server is not initialized yet", 1.0)
        return self.manager

    @property
    def exit_code(self) -> int:
        """0 after a ``shutdown`` request, 1 otherwise (LSP ``exit``)."""
        return 0 if self.shutdown_requested else 1

    def now(self) -> datetime:
        """Wall-clock time, from the session manager's clock."""
        return self.sessions.clock.now()

    def profile_name(self, profile: str | None) -> str:
        """The configured profile a request means; ConfigError when there is none."""
        return self.sessions.config.profile(profile).name

    # ------------------------------------------------------------ lifecycle

    def request_setup(self, initialization_options: Any) -> None:
        """``initialize``: keep the options; set up just after the answer has gone out.

        Importing the configuration and the session manager takes about 40 ms, which
        the editor need not wait for to get its answer. Whatever needs them earlier
        (a request read together with ``initialize``) sets up at once instead.
        """
        self.initialization_options = initialization_options
        self.setup_requested = True
        asyncio.get_running_loop().call_soon(self._setup_if_pending)

    def _setup_if_pending(self) -> None:
        if self.manager is None:
            try:
                self.setup(self.initialization_options)
            except Exception:  # a bug; requests will report it when they try again
                log.exception("setting up the session manager failed")

    def setup(self, initialization_options: Any) -> None:
        """Options, configuration and the session manager (no network)."""
        from tokenwarden.secretstore import placement_for
        from tokenwarden.session import SessionManager
        from tokenwarden.store import TokenStore

        self.initialization_options = initialization_options
        options, problems = parse_options(initialization_options,
                                          source="initializationOptions")
        config, config_problems = self._config(options)
        where = locations()
        self.manager = SessionManager(
            config, TokenStore(where.store_dir, placement_for(config)), background=True,
            warn_before_seconds=options.warn_before_expiry_seconds,
        )
        self.options = options
        self.sign_in_ui.open_browser = options.open_browser
        self.pending_problems = problems + config_problems
        self._unsubscribe = self.manager.subscribe(self.on_event)
        self.client.ready = True

    def start(self) -> None:
        """``initialized``: forward logs, report bad options, watch the store and profile."""
        manager = self.sessions
        if self.watcher is not None:
            return  # a second ``initialized``
        self._log_handler = logbridge.LogMessageHandler(self.client, asyncio.get_running_loop())
        logging.getLogger("tokenwarden").addHandler(self._log_handler)
        log.info("tokenwarden %s serving protocol v%d; store %s; default profile '%s'",
                 __version__, protocol.PROTOCOL_VERSION, manager.store.folder,
                 manager.config.default_profile)
        self.report(self.pending_problems)
        self.pending_problems = []
        from tokenwarden.storewatch import StoreWatcher

        self.watcher = StoreWatcher(manager.store.folder, manager.refresh_from_store)
        try:
            self.watcher.start()
        except OSError as exc:
            log.warning("cannot watch the token store %s (%s): other windows' changes will "
                        "show up late", manager.store.folder, exc)
        self.watch(None)
        self.spawn(self._listen_for_hand_offs(), "hand-off listener")

    async def _listen_for_hand_offs(self) -> None:
        """Let ``tokenwarden token --wait`` in a terminal ask this editor to sign in."""
        from tokenwarden.handoff import HandoffListener

        self.handoff = HandoffListener(locations().runtime_dir, self._hand_off)
        try:
            await self.handoff.start()
        except OSError as exc:
            log.warning("terminal tools cannot hand sign-in to this editor (%s)", exc)
            self.handoff = None

    async def _hand_off(self, profile: str) -> bool:
        try:
            name = self.sessions.config.profile(profile).name
        except ConfigError:
            return False
        try:
            state = self.sessions.status(name).state
        except TokenwardenError:
            return False
        if state not in (SessionState.SIGNED_OUT, SessionState.EXPIRED):
            # Any same-user process can connect: it may ask, but only a profile that
            # needs a sign-in gets one; a valid session is never replaced on request.
            log.info("a terminal tool asked for sign-in of profile %s, which is %s: "
                     "nothing to do", name, state.value)
            return True
        log.info("a terminal tool asked for sign-in of profile %s", name)
        await self.sign_in_for_user(name)
        return True

    def apply_settings(self, settings: Any) -> None:
        """``workspace/didChangeConfiguration``: settings over initializationOptions, live."""
        manager = self.sessions
        options, problems = parse_options(merged(self.initialization_options, settings),
                                          source="settings.tokenwarden")
        config, config_problems = self._config(options)
        manager.update_config(config)
        manager.warn_before_seconds = options.warn_before_expiry_seconds
        self.options = options
        self.sign_in_ui.open_browser = options.open_browser
        self.report(problems + config_problems)
        for name in manager.session_names():
            manager.refresh_from_store(name)  # re-plan warnings with the new threshold
        self.watch(None)
        log.info("settings applied; default profile '%s'", config.default_profile)

    def _config(self, options: ServerOptions) -> tuple[Config, list[OptionProblem]]:
        from tokenwarden.config import Config, load_config

        problems: list[OptionProblem] = []
        try:
            base = load_config(locations())
        except ConfigError as exc:
            problems.append(OptionProblem("config.toml", "", f"{exc.message}; file ignored"))
            base = Config(profiles={})
        config = base.with_profiles(options.profiles)
        if options.profile:
            config = replace(config, default_profile=options.profile)
        if config.default_profile not in config.profiles:
            problems.append(OptionProblem(
                "profile", "", f"'{config.default_profile}' is not configured: add it to "
                "config.toml or to initializationOptions.profiles",
            ))
        return config, problems

    def report(self, problems: list[OptionProblem]) -> None:
        """Bad options: one showMessage for all, one logMessage each."""
        if not problems:
            return
        for problem in problems:
            self.client.log_message(types.MessageType.Warning,
                                    f"tokenwarden: {problem.describe()}")
        shown = "; ".join(p.describe() for p in problems[:MAX_PROBLEMS_SHOWN])
        more = len(problems) - MAX_PROBLEMS_SHOWN
        suffix = f" (and {more} more: see the log)" if more > 0 else ""
        self.client.show_message(types.MessageType.Warning,
                                 f"tokenwarden: ignored bad options: {shown}{suffix}")

    def watch(self, profile: str | None) -> None:
        """Keep ``profile`` renewed and reported in the background (if it exists)."""
        manager = self.sessions
        with contextlib.suppress(ConfigError):
            manager.watch(manager.config.profile(profile).name)

    async def stop(self) -> None:
        """Stop watching, cancel sign-ins and background work; bounded in time."""
        if self._stopped:
            return
        self._stopped = True
        if self.watcher is not None:
            self.watcher.close()
        if self.handoff is not None:
            await self.handoff.close()
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._log_handler is not None:
            logging.getLogger("tokenwarden").removeHandler(self._log_handler)
        for task in list(self._tasks):
            task.cancel()
        if self.manager is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.manager.close(), CLOSE_TIMEOUT_SECONDS)

    async def serve(self, stdin: BinaryIO) -> None:
        """Handle messages until the editor closes stdin, then stop and leave."""
        source = await transport.open_source(stdin)
        async for body in transport.frames(source):
            self.protocol.dispatch(body)
        log.info("the editor closed the connection; stopping")
        await self.stop()
        # Leave now rather than through asyncio.run's teardown, which would wait for
        # executor threads (a DNS lookup to an unreachable provider, say).
        transport.leave(self.exit_code)

    # --------------------------------------------------------------- events

    def on_event(self, event: Event) -> None:
        """Every status change goes to the editor; warnings become a question."""
        if not isinstance(event, Status):  # an ExpiryWarning
            self.expiry_ui.on_warning(event)
            return
        self.client.notify(protocol.DID_CHANGE_STATUS, protocol.status_payload(event))
        self.sign_in_ui.on_status(event)

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Run ``work`` in the background, logging (not losing) its failure."""
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("%s failed: %s", task.get_name(), error, exc_info=error)

    # -------------------------------------------------------------- sign-in

    async def begin_login(
        self, profile: str | None, *, open_browser: bool | None = None, force: bool = False,
        flow: str | None = None,
    ) -> dict[str, Any]:
        """Start a sign-in (or return the status when already signed in)."""
        name = self.profile_name(profile)
        self.sign_in_ui.expect(name, open_browser)
        try:
            started = await self.sessions.start_login(
                name, force=force, flow=flow, browser_possible=self.browser_possible(open_browser))
        finally:
            self.sign_in_ui.expect(name, None)
        self.watch(name)
        if isinstance(started, Status):
            if started.state is SessionState.SIGNING_IN and started.login is not None:
                log.info("sign-in of profile %s already in progress; joined it", name)
                return protocol.login_joined(name, started.login, self.now())
            return protocol.status_payload(started)
        log.info("sign-in of profile %s started; waiting for approval", name)
        return protocol.login_started(name, started)

    def browser_possible(self, open_browser: bool | None) -> bool:
        """Whether ``auto`` may sign in through the browser from this window.

        The editor must open URLs for us (``window/showDocument``), be allowed to,
        and run on a desktop of the machine this server runs on: in an SSH session,
        a dev container or a codespace the loopback redirect would miss the browser,
        and a terminal editor on a console has no browser to open.
        """
        import os
        import sys

        from tokenwarden.flowchoice import desktop_session

        allowed = self.options.open_browser if open_browser is None else open_browser
        return (allowed and self.client.supports_show_document
                and desktop_session(os.environ, sys.platform))

    async def sign_in_for_user(self, profile: str) -> None:
        """The user chose "Sign in" in a prompt: start the flow, or say why not."""
        if self.sessions.status(profile).state is SessionState.SIGNING_IN:
            return
        try:
            await self.begin_login(profile, force=True)
        except TokenwardenError as exc:
            self.client.show_message(types.MessageType.Error,
                                     f"tokenwarden: could not start the sign-in: {exc.message}")


def create_server() -> TokenwardenServer:
    """A server with every handler of protocol v1 registered."""
    # handlers.py annotates with TokenwardenServer (pygls reads the annotations at
    # run time), so it imports this module: import it here, not at the top.
    from tokenwarden.lsp import handlers

    server = TokenwardenServer()
    handlers.register(server)
    return server


def run_stdio() -> int:
    """Serve on stdin/stdout until ``exit`` or end of input; the exit code."""
    logbridge.configure_logging()
    server = create_server()
    stdin, stdout = transport.private_stdio()
    server.protocol.set_writer(StdoutWriter(stdout))
    try:
        asyncio.run(server.serve(stdin))
    except BrokenPipeError:
        log.info("the editor's pipe is gone; stopping")
    return server.exit_code
