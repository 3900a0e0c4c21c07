;;; tokenwarden.el --- OAuth sessions kept alive by the tokenwarden language server  -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1") (eglot "1.9") (jsonrpc "1.0.14"))
;; Keywords: tools, convenience
;; URL: https://github.com/tokenwarden/tokenwarden

;;; Commentary:

;; Runs one tokenwarden language server (protocol v1) per Emacs through eglot,
;; not tied to any major mode: the server manages no buffer, it owns the OAuth
;; token lifecycle of a profile.
;;
;;   (require 'tokenwarden)
;;   (setq tokenwarden-profile "work")      ; nil: the server's default profile
;;   (tokenwarden-mode 1)                   ; starts the server, mode-line indicator
;;
;; Commands: `tokenwarden-sign-in', `tokenwarden-sign-out', `tokenwarden-status',
;; `tokenwarden-refresh', `tokenwarden-cancel-sign-in', `tokenwarden-stop'.
;; For other packages: `tokenwarden-get-token' (synchronous) and
;; `tokenwarden-get-token-async', `tokenwarden-token-rejected'.
;;
;; Works with eglot 1.9 on Emacs 28 and with the eglot built into Emacs 29+.
;; Eglot has no progress UI for a sign-in and (before Emacs 30) no
;; window/showDocument, so the user code comes from the status object: it is
;; shown in the echo area and copied to the kill ring, and the browser is
;; opened with `browse-url' (this package answers window/showDocument itself).

;;; Code:

(require 'cl-lib)
(require 'subr-x)
(require 'eglot)
(require 'jsonrpc)
(require 'browse-url)
(require 'parse-time)

(defgroup tokenwarden nil
  "OAuth sessions kept alive by the tokenwarden language server."
  :group 'tools
  :prefix "tokenwarden-")

(defcustom tokenwarden-command '("tokenwarden" "serve")
  "Command line of the tokenwarden language server (stdio)."
  :type '(repeat string))

(defcustom tokenwarden-profile nil
  "Profile to use; nil means the server's default profile."
  :type '(choice (const :tag "Server default" nil) string))

(defcustom tokenwarden-open-browser t
  "How to open the sign-in page.
t: `browse-url'; nil: never (the URL is shown in the echo area);
a function: called with the URL, returns non-nil when it opened it."
  :type '(choice boolean function))

(defcustom tokenwarden-copy-code t
  "Non-nil: copy the sign-in user code to the kill ring."
  :type 'boolean)

(defcustom tokenwarden-warn-before-expiry-seconds nil
  "Seconds of warning before a session ends (warnBeforeExpirySeconds).
nil: the server's default."
  :type '(choice (const nil) integer))

(defcustom tokenwarden-initialization-options nil
  "Extra initializationOptions, a plist (e.g. (:profiles (:work (:issuer \"…\"))))."
  :type 'sexp)

(defcustom tokenwarden-prompt-function #'tokenwarden-prompt-default
  "Asks the user a question of the server (window/showMessageRequest).
Called with the message and the list of action titles, outside the
server request (the request itself is answered at once); returns the
chosen title or nil.  \"Sign in\" starts the sign-in."
  :type 'function)

(defcustom tokenwarden-status-change-functions nil
  "Functions called with the status plist on every status change."
  :type 'hook)

(defcustom tokenwarden-connect-timeout 20
  "Seconds to wait for the server to start before a command gives up."
  :type 'number)

(defcustom tokenwarden-mode-line-prefix "TW"
  "Prefix of the mode-line indicator."
  :type 'string)

(defface tokenwarden-warning '((t :inherit warning))
  "Face of the mode-line indicator when the session needs attention.")

(defconst tokenwarden-protocol-version 1)
(defconst tokenwarden--sign-in-action "Sign in")

(defclass eglot-tokenwarden (eglot-lsp-server) ()
  :documentation "The tokenwarden language server (one per Emacs).")

(define-derived-mode tokenwarden-server-mode special-mode "tokenwarden"
  "Major mode eglot associates with the tokenwarden server.
No buffer uses it: the server manages no buffer.")

(defvar tokenwarden--server nil "The running `eglot-tokenwarden' server, or nil.")
(defvar tokenwarden--status nil "The last status plist.")
(defvar tokenwarden--login nil "The last sign-in (user code) plist shown.")
(defvar tokenwarden--last-code nil "User code already announced.")
(defvar tokenwarden--stopping nil)
(defvar tokenwarden--mode-line-timer nil "Redraws the remaining time.")

;;;; Helpers

(defun tokenwarden--compact (plist)
  "PLIST without its nil values."
  (let (out)
    (while plist
      (unless (null (cadr plist))
        (setq out (cl-list* (cadr plist) (car plist) out)))
      (setq plist (cddr plist)))
    (nreverse out)))

(defun tokenwarden--live-p (&optional server)
  "Non-nil when SERVER (default: ours) is running."
  (let ((s (or server tokenwarden--server)))
    (and s (jsonrpc-running-p s))))

(defun tokenwarden--time (string)
  "Seconds since the epoch of the RFC 3339 STRING, or nil."
  (when (and (stringp string) (not (string-empty-p string)))
    (ignore-errors (float-time (parse-iso8601-time-string string)))))

(defun tokenwarden--humanize (seconds)
  "SECONDS as \"52m\", \"3s\" or \"2h05m\"."
  (let ((s (max 0 (round seconds))))
    (cond ((< s 60) (format "%ds" s))
          ((< s 3600) (format "%dm" (/ s 60)))
          (t (format "%dh%02dm" (/ s 3600) (/ (% s 3600) 60))))))

(defun tokenwarden--say (format-string &rest args)
  "Echo FORMAT-STRING with ARGS, prefixed."
  (let ((message-log-max t))
    (apply #'message (concat "tokenwarden: " format-string) args)))

(defun tokenwarden--strip-prefix (text)
  "TEXT without a leading \"tokenwarden: \"."
  (if (string-prefix-p "tokenwarden: " text) (substring text 13) text))

;;;; Sign-in UI

(defun tokenwarden--announce-code (login)
  "Show the user code of LOGIN (a plist), copy it, once per code.
For a browser sign-in (no code), say where to sign in, once."
  (let ((code (plist-get login :userCode))
        (url (plist-get login :authorizationUri)))
    (when (and (not (stringp code)) (stringp url) (not (equal url tokenwarden--last-code)))
      (setq tokenwarden--login login
            tokenwarden--last-code url)
      (tokenwarden--say "sign in in your browser (if it did not open: %s)" url))
    (when (stringp code)
      (setq tokenwarden--login login)
      (unless (equal code tokenwarden--last-code)
        (setq tokenwarden--last-code code)
        (when tokenwarden-copy-code (kill-new code))
        (tokenwarden--say "enter code %s at %s%s"
                          code
                          (or (plist-get login :verificationUri)
                              (plist-get login :verificationUriComplete))
                          (if tokenwarden-copy-code " (code in the kill ring)" ""))))))

(defun tokenwarden--open-url (url)
  "Open URL as set in `tokenwarden-open-browser'; non-nil when opened."
  (cond ((null tokenwarden-open-browser) nil)
        ((functionp tokenwarden-open-browser)
         (condition-case nil (funcall tokenwarden-open-browser url) (error nil)))
        (t (condition-case err
               (progn (browse-url url) t)
             (error (tokenwarden--say "could not open a browser (%s); open %s"
                                      (error-message-string err) url)
                    nil)))))

(defun tokenwarden-prompt-default (message titles)
  "Ask MESSAGE with the action TITLES in the minibuffer; the chosen title."
  (if (member tokenwarden--sign-in-action titles)
      (and (y-or-n-p (format "%s Sign in now? " (tokenwarden--strip-prefix message)))
           tokenwarden--sign-in-action)
    (completing-read (concat (tokenwarden--strip-prefix message) " ") titles nil t)))

(defun tokenwarden--ask (message titles profile)
  "Ask MESSAGE (TITLES) through `tokenwarden-prompt-function'.
\"Sign in\" signs in to PROFILE."
  (let ((choice (condition-case nil
                    (funcall tokenwarden-prompt-function message titles)
                  (quit nil))))
    ;; As the server would: a new sign-in (forced), unless one is running.
    (when (and (equal choice tokenwarden--sign-in-action)
               (not (equal (plist-get tokenwarden--status :state) "signingIn")))
      (tokenwarden-sign-in profile t))))

;;;; Status

(defun tokenwarden--set-status (status)
  "Record STATUS (a plist), tell the user about transitions, redraw."
  (when (and (listp status) (plist-get status :state))
    (let ((before (plist-get tokenwarden--status :state))
          (state (plist-get status :state)))
      (setq tokenwarden--status status)
      (when (and (equal state "signingIn") (plist-get status :login))
        (tokenwarden--announce-code (plist-get status :login)))
      (unless (equal state before)
        (cond ((and (equal state "signedIn") (equal before "signingIn"))
               (tokenwarden--say "%s" (or (plist-get status :message) "signed in")))
              ((equal state "expired")
               (tokenwarden--say "%s" (or (plist-get status :message) "session expired")))
              ((and (equal state "signedOut") (equal before "signingIn")
                    (plist-get status :lastError))
               (tokenwarden--say "sign-in ended: %s"
                                 (plist-get (plist-get status :lastError) :message))))
        (unless (equal state "signingIn") (setq tokenwarden--last-code nil)))
      (run-hook-with-args 'tokenwarden-status-change-functions status)
      (force-mode-line-update t))))

(defun tokenwarden-current-status ()
  "The last status plist received from the server (nil before the first)."
  tokenwarden--status)

(defun tokenwarden-mode-line-string ()
  "Text of the indicator: \"TW: signed in (alice@example.com, 52m left)\"."
  (let* ((st tokenwarden--status)
         (state (plist-get st :state))
         (label (pcase state
                  ("signedOut" "signed out") ("signingIn" "signing in")
                  ("signedIn" "signed in") ("refreshing" "renewing")
                  ("degraded" "degraded") ("expired" "expired")
                  (_ state)))
         (account (plist-get st :account))
         details)
    (cond
     ((null st) (if (tokenwarden--live-p) (format "%s: starting" tokenwarden-mode-line-prefix) ""))
     (t
      (cond ((and (equal state "signingIn") tokenwarden--last-code)
             (push (concat "code " tokenwarden--last-code) details))
            ((and (stringp account) (not (equal state "signedOut")))
             (push account details)))
      (cond ((member state '("signedIn" "refreshing" "degraded"))
             (let ((exp (tokenwarden--time (plist-get st :expiresAt))))
               (when exp
                 (push (concat (tokenwarden--humanize (- exp (float-time))) " left") details))))
            ((equal state "expired") (push "sign in again" details)))
      (if details
          (format "%s: %s (%s)" tokenwarden-mode-line-prefix label
                  (string-join (nreverse details) ", "))
        (format "%s: %s" tokenwarden-mode-line-prefix label))))))

(defun tokenwarden--mode-line-segment ()
  "The propertized mode-line segment."
  (let ((text (tokenwarden-mode-line-string)))
    (if (string-empty-p text)
        ""
      (concat " "
              (propertize text
                          'face (when (member (plist-get tokenwarden--status :state)
                                              '("expired" "degraded"))
                                  'tokenwarden-warning)
                          'help-echo (or (plist-get tokenwarden--status :message) "tokenwarden")
                          'mouse-face 'mode-line-highlight
                          'local-map (make-mode-line-mouse-map
                                      'mouse-1 #'tokenwarden-status))))))

(defvar tokenwarden--mode-line-construct
  '(tokenwarden-mode (:eval (tokenwarden--mode-line-segment)))
  "What `tokenwarden-mode' adds to `global-mode-string'.")
(put 'tokenwarden--mode-line-construct 'risky-local-variable t)

;;;; eglot integration

(cl-defmethod eglot-initialization-options ((_server eglot-tokenwarden))
  "The initializationOptions of protocol v1."
  (let ((opts (tokenwarden--compact
               (list :profile tokenwarden-profile
                     :openBrowser (if tokenwarden-open-browser t :json-false)
                     :warnBeforeExpirySeconds tokenwarden-warn-before-expiry-seconds))))
    (append opts tokenwarden-initialization-options)))

(cl-defmethod eglot-client-capabilities ((_server eglot-tokenwarden))
  "Eglot's capabilities plus window/showDocument (handled here)."
  (let* ((caps (copy-sequence (cl-call-next-method)))
         (window (copy-sequence (plist-get caps :window))))
    (setq window (plist-put window :showDocument
                            (list :support (if tokenwarden-open-browser t :json-false))))
    (plist-put caps :window window)))

(cl-defmethod eglot-handle-notification
  ((_server eglot-tokenwarden) (_method (eql 'tokenwarden/didChangeStatus)) &rest status)
  "Record STATUS, the status object of protocol v1."
  (tokenwarden--set-status status))

(cl-defmethod eglot-handle-notification
  ((_server eglot-tokenwarden) (_method (eql 'window/showMessage)) &key type message
   &allow-other-keys)
  "Show MESSAGE (of TYPE) in the echo area.
The sign-in instructions are skipped when the code was already shown."
  (let ((text (tokenwarden--strip-prefix (or message ""))))
    (unless (and tokenwarden--last-code
                 (string-match-p (regexp-quote tokenwarden--last-code) text))
      (tokenwarden--say "%s" (propertize text 'face (when (and (numberp type) (<= type 2))
                                                      'warning))))))

(cl-defmethod eglot-handle-notification
  ((_server eglot-tokenwarden) (_method (eql 'window/logMessage)) &rest _)
  "Lifecycle log: kept in the events buffer only.")

(cl-defmethod eglot-handle-notification
  ((_server eglot-tokenwarden) (_method (eql '$/progress)) &rest _)
  "Progress is not used: the status object carries the sign-in.")

(cl-defmethod eglot-handle-request
  ((_server eglot-tokenwarden) (_method (eql 'window/showMessageRequest))
   &key _type message actions &allow-other-keys)
  "Answer at once (no choice), then ask MESSAGE with the ACTIONS.
Choosing \"Sign in\" signs in from here.  A blocking minibuffer question
inside a server request would freeze the connection; the outcome is the
same as answering \"Sign in\"."
  (let ((titles (mapcar (lambda (a) (plist-get a :title)) (append actions nil)))
        (profile (plist-get tokenwarden--status :profile)))
    (if (null titles)
        (tokenwarden--say "%s" (tokenwarden--strip-prefix (or message "")))
      (run-with-timer 0 nil #'tokenwarden--ask (or message "") titles profile)))
  nil)

(cl-defmethod eglot-handle-request
  ((_server eglot-tokenwarden) (_method (eql 'window/showDocument))
   &key uri _external &allow-other-keys)
  "Open URI in a browser."
  (list :success (if (and (stringp uri) (tokenwarden--open-url uri)) t :json-false)))

(cl-defmethod eglot-handle-request
  ((_server eglot-tokenwarden) (_method (eql 'window/workDoneProgress/create)) &rest _)
  "Accept progress tokens (Emacs 29+ eglot advertises progress support)."
  nil)

(defun tokenwarden--on-connect (server)
  "Remember SERVER when it is ours (also after an eglot reconnect)."
  (when (cl-typep server 'eglot-tokenwarden)
    (setq tokenwarden--server server)
    (let* ((caps (eglot--capabilities server))
           (exp (plist-get (plist-get caps :experimental) :tokenwarden)))
      (unless (equal (plist-get exp :protocolVersion) tokenwarden-protocol-version)
        (tokenwarden--say "the server does not announce protocol v%d; continuing"
                          tokenwarden-protocol-version)))
    ;; The initial status (it also arrives as didChangeStatus).
    (jsonrpc-async-request server :workspace/executeCommand
                           (list :command "tokenwarden.status"
                                 :arguments (vector (tokenwarden--compact
                                                     (list :profile tokenwarden-profile))))
                           :success-fn #'tokenwarden--set-status
                           :error-fn #'ignore
                           :timeout-fn #'ignore)))

(add-hook 'eglot-connect-hook #'tokenwarden--on-connect)

(defun tokenwarden--connect (project contact)
  "Start the server for PROJECT with CONTACT through `eglot--connect'."
  ;; eglot 1.9 takes one language id; later versions may take a list.
  (let* ((arglist (help-function-arglist 'eglot--connect t))
         (plural (and (listp arglist) (memq 'language-ids arglist)))
         (eglot-sync-connect nil))
    (eglot--connect (list 'tokenwarden-server-mode) project 'eglot-tokenwarden contact
                    (if plural (list "tokenwarden") "tokenwarden"))))

;;;###autoload
(defun tokenwarden-start ()
  "Start the tokenwarden server unless it is already running in this Emacs."
  (interactive)
  (unless (tokenwarden--live-p)
    (setq tokenwarden--server nil
          tokenwarden--status nil
          tokenwarden--stopping nil)
    (let* ((dir (file-name-as-directory (expand-file-name "~")))
           (default-directory dir)
           (project (cons 'transient dir)))
      (unless (executable-find (car tokenwarden-command))
        (user-error "tokenwarden: %s not found; set `tokenwarden-command'"
                    (car tokenwarden-command)))
      (let ((server (tokenwarden--connect project tokenwarden-command)))
        (when server (setq tokenwarden--server server)))))
  tokenwarden--server)

(defun tokenwarden--ensure-server ()
  "The running, initialized server (starting it, waiting at most the timeout)."
  (unless (tokenwarden--live-p) (tokenwarden-start))
  (let ((deadline (+ (float-time) tokenwarden-connect-timeout)))
    (while (and (not (and (tokenwarden--live-p) (eglot--capabilities tokenwarden--server)))
                (< (float-time) deadline))
      (accept-process-output nil 0.05)))
  (unless (and (tokenwarden--live-p) (eglot--capabilities tokenwarden--server))
    (error "The tokenwarden server did not start (see the *EGLOT … stderr* buffer)"))
  tokenwarden--server)

(defun tokenwarden-stop ()
  "Shut the server down."
  (interactive)
  (when (tokenwarden--live-p)
    (setq tokenwarden--stopping t)
    (ignore-errors (eglot-shutdown tokenwarden--server)))
  (setq tokenwarden--server nil
        tokenwarden--status nil)
  (force-mode-line-update t))

(defun tokenwarden--execute (command &optional arg timeout)
  "Run COMMAND with the object ARG (a plist) and return its result.
TIMEOUT: seconds to wait (jsonrpc's default when nil)."
  (let ((arg (tokenwarden--compact (append arg (list :profile tokenwarden-profile)))))
    (apply #'jsonrpc-request (tokenwarden--ensure-server) :workspace/executeCommand
           (list :command command :arguments (vector arg))
           (and timeout (list :timeout timeout)))))

(defmacro tokenwarden--reporting (what &rest body)
  "Run BODY; a JSON-RPC error becomes a `user-error' about WHAT."
  (declare (indent 1))
  `(condition-case err
       (progn ,@body)
     (jsonrpc-error
      (user-error "tokenwarden: %s failed: %s" ,what
                  (or (alist-get 'jsonrpc-error-message (cdr err)) (cdr err))))))

;;;; Commands

;;;###autoload
(defun tokenwarden-sign-in (&optional profile force)
  "Sign in to PROFILE with a device code; with prefix arg FORCE sign in again.
Returns at once; the outcome arrives as a status change."
  (interactive (list nil current-prefix-arg))
  (tokenwarden--reporting "sign-in"
    (let* ((tokenwarden-profile (or profile tokenwarden-profile))
           (result (tokenwarden--execute "tokenwarden.login"
                                         (list :force (and force t)))))
      (cond ((or (plist-get result :userCode) (plist-get result :authorizationUri))
             (tokenwarden--announce-code result))
            ((plist-get result :state)
             (tokenwarden--set-status result)
             (tokenwarden--say "%s" (plist-get result :message))))
      result)))

;;;###autoload
(defun tokenwarden-sign-out (&optional profile)
  "Sign out of PROFILE and revoke its refresh token."
  (interactive)
  (tokenwarden--reporting "sign-out"
    (let* ((tokenwarden-profile (or profile tokenwarden-profile))
           (result (tokenwarden--execute "tokenwarden.logout")))
      (tokenwarden--set-status result)
      (tokenwarden--say "%s" (or (plist-get result :message) "signed out"))
      result)))

;;;###autoload
(defun tokenwarden-refresh (&optional profile)
  "Renew the access token of PROFILE now."
  (interactive)
  (tokenwarden--reporting "refresh"
    (let* ((tokenwarden-profile (or profile tokenwarden-profile))
           (result (tokenwarden--execute "tokenwarden.refresh" nil 30)))
      (tokenwarden--set-status result)
      (tokenwarden--say "%s" (or (plist-get result :message) "renewed"))
      result)))

;;;###autoload
(defun tokenwarden-status (&optional profile)
  "Show the session status of PROFILE in the echo area; return the status plist."
  (interactive)
  (tokenwarden--reporting "status"
    (let* ((tokenwarden-profile (or profile tokenwarden-profile))
           (result (tokenwarden--execute "tokenwarden.status"))
           (err (plist-get result :lastError)))
      (tokenwarden--set-status result)
      (tokenwarden--say "%s%s%s" (or (plist-get result :message) (plist-get result :state))
                        (if (plist-get result :expiresAt)
                            (concat " · expires at " (plist-get result :expiresAt)) "")
                        (if err (concat " · last error: " (plist-get err :message)) ""))
      result)))

(defun tokenwarden-cancel-sign-in (&optional profile)
  "Cancel the sign-in of PROFILE in progress."
  (interactive)
  (tokenwarden--reporting "cancel"
    (let* ((tokenwarden-profile (or profile tokenwarden-profile))
           (result (tokenwarden--execute "tokenwarden.cancelLogin")))
      (tokenwarden--say (if (eq (plist-get result :cancelled) t)
                            "sign-in cancelled" "no sign-in in progress"))
      result)))

;;;; API for other packages

(cl-defun tokenwarden-get-token (&key profile min-validity interactive full)
  "A valid access token (string) of PROFILE, renewed first when needed.
MIN-VALIDITY: seconds it must stay valid (server default 60).  INTERACTIVE:
start a sign-in when needed and wait for it.  FULL: return the whole plist
\(:accessToken :tokenType :expiresAt :scopes) instead of the string.
Signals `jsonrpc-error' with code -32001 (sign-in required) or -32002
\(temporarily unavailable; data has :retryAfterSeconds)."
  (let ((result (jsonrpc-request
                 (tokenwarden--ensure-server) :tokenwarden/getToken
                 (tokenwarden--compact
                  (list :profile (or profile tokenwarden-profile)
                        :minValiditySeconds min-validity
                        :interactive (and interactive t)))
                 :timeout (if interactive 900 30))))
    (if full result (plist-get result :accessToken))))

(cl-defun tokenwarden-get-token-async (callback &key profile min-validity interactive errback)
  "Call CALLBACK with the token plist of PROFILE; ERRBACK with CODE MESSAGE DATA.
MIN-VALIDITY and INTERACTIVE as in `tokenwarden-get-token'."
  (jsonrpc-async-request
   (tokenwarden--ensure-server) :tokenwarden/getToken
   (tokenwarden--compact (list :profile (or profile tokenwarden-profile)
                               :minValiditySeconds min-validity
                               :interactive (and interactive t)))
   :success-fn callback
   :error-fn (lambda (err)
               (when errback
                 (funcall errback (plist-get err :code) (plist-get err :message)
                          (plist-get err :data))))
   :timeout (if interactive 900 30)
   :timeout-fn (lambda ()
                 (when errback (funcall errback -32099 "timed out" nil)))))

(cl-defun tokenwarden-token-rejected (access-token &key profile full)
  "Report that an API call got 401 with ACCESS-TOKEN; return the renewed token.
PROFILE and FULL as in `tokenwarden-get-token'."
  (let ((result (jsonrpc-request
                 (tokenwarden--ensure-server) :tokenwarden/tokenRejected
                 (tokenwarden--compact (list :profile (or profile tokenwarden-profile)
                                             :accessToken access-token))
                 :timeout 30)))
    (if full result (plist-get result :accessToken))))

(defun tokenwarden-error-code (err)
  "The JSON-RPC error code of a `jsonrpc-error' condition ERR, or nil."
  (alist-get 'jsonrpc-error-code (cdr err)))

;;;; Minor mode

;;;###autoload
(define-minor-mode tokenwarden-mode
  "Run the tokenwarden server and show its session in the mode line."
  :global t
  :group 'tokenwarden
  (if tokenwarden-mode
      (progn
        (unless (listp global-mode-string)
          (setq global-mode-string (list global-mode-string)))
        (add-to-list 'global-mode-string tokenwarden--mode-line-construct t)
        (unless tokenwarden--mode-line-timer
          (setq tokenwarden--mode-line-timer
                (run-with-timer 30 30 #'force-mode-line-update t)))
        (tokenwarden-start))
    (setq global-mode-string (delete tokenwarden--mode-line-construct global-mode-string))
    (when tokenwarden--mode-line-timer
      (cancel-timer tokenwarden--mode-line-timer)
      (setq tokenwarden--mode-line-timer nil))
    (tokenwarden-stop)))

(provide 'tokenwarden)
;;; tokenwarden.el ends here
