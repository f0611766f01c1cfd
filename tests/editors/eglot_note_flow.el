;;; eglot_note_flow.el --- Emacs eglot: "This got in the way…" on a Handrail finding.
;; Waits for HR300, asks the server for the code actions on it the way eglot does, runs the
;; note action's command through eglot's connection. Exits 0 when the server answered with the
;; note it recorded, 1 otherwise.

(package-initialize)
(require 'cl-lib)
(load-file (getenv "HANDRAIL_EGLOT_CONFIG"))

(defvar handrail-diagnostics nil "The diagnostics last published for the file.")

(advice-add 'eglot-handle-notification :before
            (lambda (_server method &rest params)
              (when (eq method 'textDocument/publishDiagnostics)
                (setq handrail-diagnostics (append (plist-get params :diagnostics) nil)))))

(defun handrail-find (code)
  (cl-find code handrail-diagnostics :key (lambda (d) (plist-get d :code)) :test #'equal))

(find-file (getenv "HANDRAIL_FILE"))
;; eglot-ensure waits for a command loop that batch Emacs never runs: connect directly.
(apply #'eglot (eglot--guess-contact))
(let ((deadline (+ (float-time) 30)))
  (while (and (not (handrail-find "HR300")) (< (float-time) deadline))
    (accept-process-output nil 0.1)))
(let ((diagnostic (handrail-find "HR300")))
  (unless diagnostic
    (princ "no HR300\n")
    (kill-emacs 1))
  (let* ((server (eglot-current-server))
         (actions (jsonrpc-request
                   server :textDocument/codeAction
                   (list :textDocument (eglot--TextDocumentIdentifier)
                         :range (plist-get diagnostic :range)
                         :context (list :diagnostics (vector diagnostic)))))
         (note (cl-find-if (lambda (a)
                             (string-prefix-p "This got in the way" (plist-get a :title)))
                           actions))
         (command (and note (plist-get note :command))))
    (princ (format "titles: %S\n" (mapcar (lambda (a) (plist-get a :title)) actions)))
    (unless command
      (kill-emacs 1))
    (let ((answer (jsonrpc-request server :workspace/executeCommand
                                   (list :command (plist-get command :command)
                                         :arguments (plist-get command :arguments)))))
      (princ (format "message: %s\n" (plist-get answer :message)))
      (kill-emacs (if (string-match-p "got in the way (HR300" (plist-get answer :message)) 0 1)))))
