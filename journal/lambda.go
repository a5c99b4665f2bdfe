package journal

import (
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// FromLambda turns Lambda's stream event into journal records.
func FromLambda(ev events.DynamoDBEvent) ([]Record, error) {
	out := make([]Record, 0, len(ev.Records))
	for _, r := range ev.Records {
		kind, err := ParseKind(r.EventName)
		if err != nil {
			return nil, err
		}
		out = append(out, Record{
			EventID:        r.EventID,
			Kind:           kind,
			SequenceNumber: r.Change.SequenceNumber,
			Created:        r.Change.ApproximateCreationDateTime.Time,
			Keys:           item(r.Change.Keys),
			NewImage:       item(r.Change.NewImage),
			OldImage:       item(r.Change.OldImage),
		})
	}
	return out, nil
}

func item(m map[string]events.DynamoDBAttributeValue) map[string]types.AttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = value(v)
	}
	return out
}

func value(v events.DynamoDBAttributeValue) types.AttributeValue {
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}
	case events.DataTypeMap:
		return &types.AttributeValueMemberM{Value: item(v.Map())}
	case events.DataTypeList:
		l := make([]types.AttributeValue, len(v.List()))
		for i, x := range v.List() {
			l[i] = value(x)
		}
		return &types.AttributeValueMemberL{Value: l}
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}
	}
	return &types.AttributeValueMemberNULL{Value: true}
}
