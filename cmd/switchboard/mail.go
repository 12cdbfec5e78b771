package main

import (
	"context"

	"github.com/switchboard-pbx/switchboard/mailer"
	"github.com/switchboard-pbx/switchboard/voicemail"
)

// letterSender sends voicemail's letters through the SMTP relay.
type letterSender struct{ relay *mailer.Sender }

var _ voicemail.Sender = letterSender{}

func (s letterSender) Send(ctx context.Context, l voicemail.Letter) error {
	return s.relay.Send(ctx, mailer.Mail{To: l.To, Subject: l.Subject, Text: l.Text,
		Attachments: []mailer.Attachment{{Name: l.AttachmentName, ContentType: "audio/wav", Data: l.Attachment}}})
}
