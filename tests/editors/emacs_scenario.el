;;; emacs_scenario.el --- tokenwarden.el end to end in batch Emacs  -*- lexical-binding: t; -*-

;; Driven by tests/editors/test_emacs.py:
;;   emacs --batch -Q -L editors/emacs -l tests/editors/emacs_scenario.el
;; Env: TW_TEST_DIR (handshake files), TW_SERVER_BIN (tokenwarden executable).
;; Handshake as in nvim_scenario.lua: user_code, token/token_checked, progress, result.json.

;;; Code:

(require 'cl-lib)
(require 'json)
;; -Q leaves Debian's elpa-eglot (Emacs 28) off the load path: activate it.
(unless (locate-library "eglot")
  (require 'package)
  (setq package-directory-list
        (cl-remove-if-not #'file-directory-p '("/usr/share/emacs/site-lisp/elpa")))
  (package-initialize))
(defvar tw-dir (or (getenv "TW_TEST_DIR") (error "TW_TEST_DIR not set")))

;; No eglot (Emacs 28 without elpa-eglot): tell the test, which skips.
(unless (require 'eglot nil t)
  (with-temp-file (expand-file-name "result.json" tw-dir)
    (insert "{\"eglot_missing\": true}"))
  (kill-emacs 0))
(require 'tokenwarden)
(defvar tw-result nil "Alist written to result.json.")
(defvar tw-steps nil)
(defvar tw-mode-lines nil)
(defvar tw-states nil)
(defvar tw-browser nil)
(defvar tw-prompts nil)
(defvar tw-saw-refreshing nil)

(defun tw-put (key value) (push (cons key value) tw-result))

(defun tw-write (name text &optional mode)
  (let ((path (expand-file-name name tw-dir))
        (coding-system-for-write 'utf-8-unix))
    (with-temp-file (concat path ".tmp") (insert text))
    (when mode (set-file-modes (concat path ".tmp") mode))
    (rename-file (concat path ".tmp") path t)))

(defun tw-read (name)
  (let ((path (expand-file-name name tw-dir)))
    (when (file-exists-p path)
      (with-temp-buffer (insert-file-contents path) (string-trim (buffer-string))))))

(defvar tw-t0 (float-time))
(defun tw-step (name)
  (push (format "%s (%.1fs)" name (- (float-time) tw-t0)) tw-steps)
  (tw-write "progress" (string-join (reverse tw-steps) "\n")))

(defun tw-wait (seconds what pred)
  (let ((deadline (+ (float-time) seconds)))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (unless (funcall pred)
      (error "Timed out after %s s waiting for %s" seconds what))))

(defun tw-state () (plist-get (tokenwarden-current-status) :state))

(defun tw-capture (label)
  (push `((label . ,label)
          (mode_line . ,(tokenwarden-mode-line-string))
          (state . ,(tw-state))
          (message . ,(plist-get (tokenwarden-current-status) :message)))
        tw-mode-lines))

(defun tw-run ()
  (setq tokenwarden-command (list (getenv "TW_SERVER_BIN") "serve")
        tokenwarden-profile "default"
        tokenwarden-open-browser (lambda (url) (push url tw-browser) t)
        tokenwarden-prompt-function (lambda (msg titles) (push (cons msg titles) tw-prompts) "Later"))
  (add-hook 'tokenwarden-status-change-functions
            (lambda (st)
              (let ((state (plist-get st :state)))
                (unless (and tw-states (equal (car tw-states)
                                              (list state (plist-get st :expiresAt))))
                  (push (list state (plist-get st :expiresAt)) tw-states))
                (when (and (equal state "refreshing") (not tw-saw-refreshing))
                  (setq tw-saw-refreshing t)
                  (tw-capture "renewing")))))
  (tw-put 'emacs emacs-version)
  (tw-put 'eglot (locate-library "eglot"))
  (tokenwarden-mode 1)
  (tw-step "mode on")
  (tw-wait 20 "the first status" (lambda () (tw-state)))
  (tw-put 'initial_state (tw-state))
  (tw-put 'server_class (symbol-name (eieio-object-class tokenwarden--server)))
  (tw-put 'managed_buffers (length (eglot--managed-buffers tokenwarden--server)))
  (let ((first tokenwarden--server))
    (tokenwarden-start)
    (tw-put 'same_server (eq first tokenwarden--server)))
  (tw-capture "started")
  (tw-step "started")

  (call-interactively #'tokenwarden-sign-in)
  (tw-wait 10 "the user code" (lambda () tokenwarden--last-code))
  (let ((code tokenwarden--last-code))
    (tw-put 'user_code_in_kill_ring (equal (car kill-ring) code))
    (tw-put 'user_code_shape (replace-regexp-in-string "[[:alnum:]]" "X" code))
    (tw-write "user_code" code))
  (tw-capture "signing in")
  (tw-step "code shown")

  (tw-wait 20 "signedIn" (lambda () (equal (tw-state) "signedIn")))
  (tw-capture "signed in")
  (tw-put 'account (plist-get (tokenwarden-current-status) :account))
  (tw-step "signed in")
  (let ((first (plist-get (tokenwarden-current-status) :expiresAt)))
    (tw-wait 15 "a silent renewal (expiresAt to change)"
             (lambda () (and (equal (tw-state) "signedIn")
                             (not (equal (plist-get (tokenwarden-current-status) :expiresAt)
                                         first))))))
  (tw-capture "renewed")
  (tw-put 'renewed t)
  (tw-step "renewed")

  (let ((token (tokenwarden-get-token :min-validity 1 :full t)))
    (tw-put 'token_type (plist-get token :tokenType))
    (tw-put 'token_expires_at (plist-get token :expiresAt))
    (tw-write "token" (plist-get token :accessToken) #o600))
  (tw-wait 10 "the test to check the token" (lambda () (tw-read "token_checked")))
  (tw-put 'token_checked (tw-read "token_checked"))
  (tw-step "token checked")

  ;; The asynchronous API, then tokenRejected (renews, answers another token).
  (let (async-token)
    (tokenwarden-get-token-async (lambda (tok) (setq async-token tok))
                                 :min-validity 1
                                 :errback (lambda (code msg _data)
                                            (setq async-token (list :error code msg))))
    (tw-wait 10 "the asynchronous token" (lambda () async-token))
    (tw-put 'async_token_ok (if (stringp (plist-get async-token :accessToken)) t :json-false))
    (let ((renewed (tokenwarden-token-rejected (plist-get async-token :accessToken))))
      (tw-put 'token_rejected_different
              (if (and (stringp renewed)
                       (not (equal renewed (plist-get async-token :accessToken))))
                  t :json-false))))
  (tw-step "token rejected")

  (let ((st (tokenwarden-refresh)))
    (tw-put 'refresh_state (plist-get st :state)))
  (tw-step "refreshed")
  (tw-put 'status_state (plist-get (tokenwarden-status) :state))
  (tw-step "status")

  ;; window/showMessageRequest: answered at once (null), asked afterwards.
  (let ((answer (eglot-handle-request tokenwarden--server 'window/showMessageRequest
                                      :type 2 :message "tokenwarden: session ends soon"
                                      :actions [(:title "Sign in") (:title "Later")])))
    (tw-put 'message_request_answer_is_null (null answer)))
  (tw-wait 3 "the prompt" (lambda () tw-prompts))
  (tw-put 'prompts (length tw-prompts))
  (tw-step "message request")

  (tw-capture "before sign-out")
  (tokenwarden-sign-out)
  (tw-wait 10 "signedOut" (lambda () (equal (tw-state) "signedOut")))
  (tw-capture "signed out")
  (tw-step "signed out")

  (tw-put 'get_token_after_sign_out
          (condition-case err
              (progn (tokenwarden-get-token) "ok")
            (jsonrpc-error (tokenwarden-error-code err))))
  (tw-step "done"))

(defun tw-run-expiry ()
  "The server's expiry question: answer \"Sign in\" once, then \"Later\"."
  (setq tokenwarden-command (list (getenv "TW_SERVER_BIN") "serve")
        tokenwarden-profile "default"
        tokenwarden-warn-before-expiry-seconds 300
        tokenwarden-open-browser (lambda (url) (push url tw-browser) t)
        tokenwarden-prompt-function
        (lambda (msg titles)
          (push msg tw-prompts)
          (if (= (length tw-prompts) 1) (car (member "Sign in" titles)) "Later")))
  ;; Count sign-ins: the question (and the second code) may come before a
  ;; poll would see the signedIn state.
  (defvar tw-sign-ins 0)
  (defvar tw-last-state nil)
  (add-hook 'tokenwarden-status-change-functions
            (lambda (st)
              (let ((state (plist-get st :state)))
                (when (and (equal state "signedIn") (equal tw-last-state "signingIn"))
                  (setq tw-sign-ins (1+ tw-sign-ins)))
                (setq tw-last-state state))))
  (tokenwarden-mode 1)
  (tw-wait 20 "the first status" (lambda () (tw-state)))
  (tw-step "started")
  (tokenwarden-sign-in)
  (tw-wait 10 "the user code" (lambda () tokenwarden--last-code))
  (let ((first tokenwarden--last-code))
    (tw-write "user_code" first)
    (tw-wait 20 "signedIn" (lambda () (>= tw-sign-ins 1)))
    (tw-step "signed in")
    (tw-wait 15 "the expiry question" (lambda () tw-prompts))
    (tw-step "asked")
    (tw-wait 10 "a second user code after \"Sign in\""
             (lambda () (and tokenwarden--last-code
                             (not (equal tokenwarden--last-code first))))))
  (tw-write "user_code" tokenwarden--last-code)
  (tw-step "second code")
  (tw-wait 20 "signedIn again" (lambda () (>= tw-sign-ins 2)))
  (tw-capture "signed in again")
  (tw-put 'second_sign_in t)
  (tokenwarden-sign-out)
  (tw-wait 10 "signedOut" (lambda () (equal (tw-state) "signedOut")))
  (tw-step "signed out")
  (tw-put 'prompts (vconcat (reverse tw-prompts))))

(let ((ok (condition-case err
              (progn (if (equal (getenv "TW_SCENARIO") "expiry") (tw-run-expiry) (tw-run)) t)
            (error (tw-put 'error (error-message-string err)) nil))))
  (tw-put 'ok (if ok t :json-false))
  (let ((server tokenwarden--server))
    (ignore-errors (tokenwarden-mode -1))
    (tw-step "server stopped")
    (tw-put 'server_stopped (if (and server (jsonrpc-running-p server)) :json-false t)))
  (tw-put 'steps (vconcat (reverse tw-steps)))
  (tw-put 'mode_lines (vconcat (reverse tw-mode-lines)))
  (tw-put 'states (vconcat (mapcar (lambda (s) `((state . ,(car s)) (expiresAt . ,(cadr s))))
                                   (reverse tw-states))))
  (tw-put 'browser (vconcat tw-browser))
  (tw-write "result.json" (json-encode tw-result))
  (kill-emacs (if ok 0 1)))

;;; emacs_scenario.el ends here
